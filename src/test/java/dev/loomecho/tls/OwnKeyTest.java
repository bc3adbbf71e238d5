package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A user's own key and certificate, made by openssl in each format it writes, served and checked. */
@Timeout(120)
class OwnKeyTest {

    @TempDir
    static Path dir;

    @BeforeAll
    static void makeKeysWithOpenssl() throws Exception {
        // PKCS#8 keys, the form openssl 3 writes by default
        selfSigned("ec", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256");
        selfSigned("rsa", "-newkey", "rsa:2048");
        selfSigned("ed25519", "-newkey", "ed25519");
        // the same keys in the older forms
        Openssl.ok(dir, "ec", "-in", "ec-key.pem", "-out", "ec-sec1.pem");
        Openssl.ok(dir, "rsa", "-in", "rsa-key.pem", "-traditional", "-out", "rsa-pkcs1.pem");
        Openssl.ok(dir, "pkcs8", "-topk8", "-in", "ec-key.pem", "-passout", "pass:secret", "-out", "ec-encrypted.pem");
        Openssl.ok(dir, "pkcs12", "-export", "-in", "ec.pem", "-inkey", "ec-key.pem", "-passout", "pass:secret",
                "-out", "ec.p12");
        Files.writeString(dir.resolve("ec-both.pem"), Files.readString(dir.resolve("ec.pem"))
                + Files.readString(dir.resolve("ec-key.pem")));
    }

    private static void selfSigned(String name, String... keyOptions) throws Exception {
        List<String> arguments = new java.util.ArrayList<>(List.of("req", "-x509", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", name + "-key.pem", "-out", name + ".pem"));
        arguments.addAll(List.of(keyOptions));
        Openssl.ok(dir, arguments.toArray(String[]::new));
    }

    @Test
    void servesOwnPkcs8KeysOfEachTypeToAClientThatTrustsTheCertificate() throws Exception {
        for (String name : new String[] {"ec", "rsa", "ed25519"}) {
            ServerKey key = ServerKey.fromPem(dir.resolve(name + ".pem"), dir.resolve(name + "-key.pem"));
            assertEchoesWith(key, name);
        }
    }

    @Test
    void readsSec1AndPkcs1KeysAsTheSameKeys() throws Exception {
        ServerKey pkcs8 = ServerKey.fromPem(dir.resolve("ec.pem"), dir.resolve("ec-key.pem"));
        ServerKey sec1 = ServerKey.fromPem(dir.resolve("ec.pem"), dir.resolve("ec-sec1.pem"));
        assertTrue(Files.readString(dir.resolve("ec-sec1.pem")).startsWith("-----BEGIN EC PRIVATE KEY-----"));
        assertEquals(((java.security.interfaces.ECPrivateKey) pkcs8.privateKey()).getS(),
                ((java.security.interfaces.ECPrivateKey) sec1.privateKey()).getS());
        assertEchoesWith(sec1, "ec (SEC1)");
        ServerKey rsa = ServerKey.fromPem(dir.resolve("rsa.pem"), dir.resolve("rsa-pkcs1.pem"));
        assertTrue(Files.readString(dir.resolve("rsa-pkcs1.pem")).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
        assertEquals("RSA", rsa.privateKey().getAlgorithm());
        assertEchoesWith(rsa, "rsa (PKCS#1)");
    }

    @Test
    void readsTheCertificateAndKeyFromOneFile() throws Exception {
        ServerKey key = ServerKey.fromPem(dir.resolve("ec-both.pem"), dir.resolve("ec-both.pem"));
        assertEquals("CN=localhost", key.certificate().getSubjectX500Principal().getName());
    }

    @Test
    void readsAPkcs12KeyStoreWithItsPasswordAndRefusesAWrongOne() throws Exception {
        ServerKey key = ServerKey.fromKeyStore(dir.resolve("ec.p12"), "secret".toCharArray());
        assertEchoesWith(key, "PKCS#12");
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> ServerKey.fromKeyStore(dir.resolve("ec.p12"), "guess".toCharArray()));
        assertTrue(wrong.getMessage().startsWith(dir.resolve("ec.p12") + ": wrong password"), wrong.getMessage());
    }

    @Test
    void refusesAKeyThatDoesNotBelongToTheCertificate() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerKey.fromPem(dir.resolve("rsa.pem"), dir.resolve("ec-key.pem")));
        assertTrue(e.getMessage().contains("does not belong to"), e.getMessage());
        assertTrue(e.getMessage().contains("ec-key.pem"), e.getMessage());
    }

    @Test
    void refusesAnEncryptedKeySayingWhatToDo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerKey.fromPem(dir.resolve("ec.pem"), dir.resolve("ec-encrypted.pem")));
        assertTrue(e.getMessage().contains("encrypted") && e.getMessage().contains("openssl pkey"), e.getMessage());
    }

    @Test
    void refusesMissingFilesAndFilesWithoutPemNamingThem() throws Exception {
        Path missing = dir.resolve("missing.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerKey.fromPem(missing, dir.resolve("ec-key.pem")));
        assertEquals(missing + ": no such file", e.getMessage());
        Path text = Files.writeString(dir.resolve("text.pem"), "not PEM at all\n");
        e = assertThrows(IllegalArgumentException.class, () -> ServerKey.fromPem(dir.resolve("ec.pem"), text));
        assertTrue(e.getMessage().startsWith(text + ": no PEM private key"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ServerKey.fromPem(text, dir.resolve("ec-key.pem")));
        assertTrue(e.getMessage().startsWith(text + " holds no PEM certificate"), e.getMessage());
    }

    @Test
    void withAnOwnKeyThereIsNoGeneratedCaToHandOut() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().keyFiles(dir.resolve("ec.pem"), dir.resolve("ec-key.pem")).build());
        IllegalStateException e = assertThrows(IllegalStateException.class, tls::caCertificate);
        assertTrue(e.getMessage().contains("your own certificate (CN=localhost)"), e.getMessage());
        assertThrows(IllegalStateException.class, tls::clientContext);
        assertThrows(IllegalStateException.class, () -> tls.serverContext(ServedCertificate.EXPIRED));
        assertThrows(IllegalStateException.class, () -> tls.serverContext(ServedCertificate.WRONG_HOST));
    }

    @Test
    void writesTheKeyReadableByItsOwnerOnly() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.defaults());
        HeldCertificate client = tls.issueClientCertificate("writer");
        Path out = Files.createDirectory(dir.resolve("out"));
        client.writePem(out, "client");
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(out.resolve("client-key.pem")));
        assertEquals(client.certificatePem(), Files.readString(out.resolve("client.pem")));
        client.writePem(out, "client"); // replacing what is there
        ServerKey readBack = ServerKey.fromPem(out.resolve("client.pem"), out.resolve("client-key.pem"));
        assertEquals(client.certificate(), readBack.certificate());
        assertEquals(client.privateKey(), readBack.privateKey());
        try (var files = Files.list(out)) {
            assertEquals(2, files.count(), "no temporary file left behind");
        }
    }

    private static void assertEchoesWith(ServerKey key, String what) throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().key(key).build());
        SSLContext client = KeyStores.context(null, KeyStores.trusting(List.of(key.certificate())));
        try (TlsTestServer server = TlsTestServer.start(tls);
             SSLSocket socket = JavaTlsClient.connect(client, "localhost", server.port())) {
            byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
            assertArrayEquals(echo[0], echo[1], what);
        }
    }
}
