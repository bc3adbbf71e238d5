package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.ChildServer;
import dev.loomecho.TestClient;
import dev.loomecho.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code serve}'s TLS flags: what they start, the files they write, and each bad combination's exit 2. */
@Timeout(120)
class TlsCliTest {

    @TempDir
    Path dir;

    @Test
    void tlsPortWithAnEngineWithoutTlsExitsTwoNamingTheEnginesThatHaveIt() {
        for (String engine : new String[] {"completion", "future"}) {
            String err = refused("serve", "--port", "0", "--engine", engine, "--tls-port", "0");
            assertTrue(err.contains("tls-port needs an engine that serves TLS (virtual, platform, selector), not " + engine), err);
        }
    }

    @Test
    void tlsFlagsWithoutATlsPortExitTwo() {
        assertTrue(refused("serve", "--port", "0", "--tls-alpn", "h2").contains("--tls-alpn needs a TLS listener: add --tls-port PORT"));
        assertTrue(refused("serve", "--port", "0", "--tls-handshake-delay", "10")
                .contains("the tls-... faults need a TLS listener (--tls-port)"));
    }

    @Test
    void badTlsSettingsExitTwoWithTheirReason() throws Exception {
        Path missing = dir.resolve("missing.pem");
        assertTrue(refused("serve", "--port", "0", "--tls-port", "0", "--tls-cert", missing.toString())
                .contains("--tls-cert and --tls-key go together"));
        assertTrue(refused("serve", "--port", "0", "--tls-port", "0", "--tls-cert", missing.toString(), "--tls-key",
                missing.toString()).contains(missing + ": no such file"));
        assertTrue(refused("serve", "--port", "0", "--tls-port", "0", "--tls-protocols", "TLSv1.9")
                .contains("tls-protocols: TLSv1.9 is not a TLS version this JDK knows"));
        assertTrue(refused("serve", "--port", "0", "--tls-port", "0", "--tls-client-auth", "maybe")
                .contains("--tls-client-auth"));
        assertTrue(refused("serve", "--port", "0", "--tls-port", "0", "--tls-stall-handshake=perhaps")
                .contains("--tls-stall-handshake takes true or false, was 'perhaps'"));
        assertTrue(refused("serve", "--port", "0", "--tls-port", "0", "--tls-cert-expired", "--tls-cert-wrong-host")
                .contains("exclude each other"));
        assertTrue(refused("serve", "--port", "7443", "--tls-port", "7443").contains("tls-port must differ from port"));
    }

    @Test
    void servesTlsWithTheGeneratedCaWrittenOutAndServedOverHttpAndAClientCertificateForNeed() throws Exception {
        Path ca = dir.resolve("ca.pem");
        Path clientDir = dir.resolve("client");
        try (ChildServer server = ChildServer.start(0, "--tls-port", "0", "--tls-ca-out", ca.toString(),
                "--tls-client-cert-out", clientDir.toString(), "--tls-client-auth", "need", "--control-port", "0")) {
            int tlsPort = server.tlsAddress().getPort();
            assertTrue(server.output().contains("certificate for localhost, 127.0.0.1, ::1 from a throwaway CA"), server.output());
            assertTrue(server.output().contains("client certificates: need"), server.output());
            try (HttpClient http = HttpClient.newHttpClient()) {
                HttpResponse<String> served = http.send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + server.controlAddress().getPort() + "/tls/ca.pem")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, served.statusCode());
                assertEquals(Files.readString(ca), served.body(), "the file and the endpoint hand out the same CA");
            }
            assertEquals(Files.readString(ca), Files.readString(clientDir.resolve("ca.pem")));
            ServerKey client = ServerKey.fromPem(clientDir.resolve("client.pem"), clientDir.resolve("client-key.pem"));
            assertEquals("CN=" + "loom-echo-client" + ",O=loom-echo", client.certificate().getSubjectX500Principal().getName());
            SSLContext context = KeyStores.context(KeyStores.holding(client.privateKey(), client.chain()),
                    KeyStores.trusting(Pem.certificates(ca)));
            try (SSLSocket socket = JavaTlsClient.connect(context, "localhost", tlsPort)) {
                assertArrayEquals(new byte[] {0, 1, 0}, new TestClient(socket).echo(new byte[] {0, 1, 0}));
            }
        }
    }

    @Test
    void servesAPkcs12KeyStoreWithThePasswordFromTheEnvironment() throws Exception {
        Openssl.ok(dir, "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=DNS:localhost", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-keyout", "key.pem", "-out", "cert.pem");
        Openssl.ok(dir, "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-passout", "pass:s3cret", "-out", "server.p12");
        try (ChildServer server = ChildServer.startWithEnvironment(Map.of("LOOM_ECHO_TLS_PASSWORD", "s3cret"),
                "--tls-port", "0", "--tls-keystore", dir.resolve("server.p12").toString())) {
            int tlsPort = server.tlsAddress().getPort();
            assertTrue(server.output().contains("(CN=localhost, valid until"), server.output());
            SSLContext context = KeyStores.context(null, KeyStores.trusting(Pem.certificates(dir.resolve("cert.pem"))));
            try (SSLSocket socket = JavaTlsClient.connect(context, "localhost", tlsPort, List.of())) {
                assertArrayEquals(new byte[] {9}, new TestClient(socket).echo(new byte[] {9}));
            }
        }
    }

    /** Runs {@code args} in this JVM, requires exit code 2, and returns what was printed to stderr. */
    private static String refused(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        assertEquals(2, cli.execute(args), String.join(" ", args) + ":\n" + err);
        return err.toString();
    }
}
