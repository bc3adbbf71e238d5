package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OpenSSL, an independent X.509 implementation, parses and verifies what our DER encoder wrote. */
class OpensslAcceptsTheCertificatesTest {

    private static final ServerTls TLS = ServerTls.create(TlsConfig.defaults());

    @TempDir
    static Path dir;

    @BeforeAll
    static void writeCertificates() throws Exception {
        Files.writeString(dir.resolve("ca.pem"), TLS.caCertificatePem());
        for (ServedCertificate which : ServedCertificate.values()) {
            Files.writeString(dir.resolve(which.name() + ".pem"), Pem.certificate(TLS.servedCertificate(which)));
        }
        TLS.issueClientCertificate("alice").writePem(dir, "alice");
    }

    @Test
    void opensslPrintsTheServerCertificatesFields() throws Exception {
        String text = Openssl.ok(dir, "x509", "-in", "VALID.pem", "-noout", "-text");
        for (String expected : new String[] {"Version: 3 (0x2)", "Signature Algorithm: ecdsa-with-SHA256",
                "Issuer: O = loom-echo, CN = loom-echo throwaway CA", "Subject: O = loom-echo, CN = localhost",
                "Public Key Algorithm: id-ecPublicKey", "NIST CURVE: P-256",
                "X509v3 Basic Constraints: critical\n                CA:FALSE",
                "X509v3 Key Usage: critical\n                Digital Signature",
                "X509v3 Extended Key Usage: \n                TLS Web Server Authentication",
                "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
                "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier"}) {
            assertTrue(text.contains(expected), "no \"" + expected + "\" in:\n" + text);
        }
    }

    @Test
    void opensslPrintsTheCaAsACaThatSignsCertificates() throws Exception {
        String text = Openssl.ok(dir, "x509", "-in", "ca.pem", "-noout", "-text");
        assertTrue(text.contains("CA:TRUE, pathlen:0"), text);
        assertTrue(text.contains("Certificate Sign, CRL Sign"), text);
    }

    @Test
    void opensslVerifiesTheServerCertificateForEachOfTheThreeNames() throws Exception {
        for (String[] check : new String[][] {{"-verify_hostname", "localhost"}, {"-verify_ip", "127.0.0.1"},
                {"-verify_ip", "::1"}}) {
            String output = Openssl.ok(dir, "verify", "-CAfile", "ca.pem", "-purpose", "sslserver",
                    check[0], check[1], "VALID.pem");
            assertEquals("VALID.pem: OK", output.strip());
        }
    }

    @Test
    void opensslRefusesTheWrongHostCertificateForTheHostNameOnly() throws Exception {
        Openssl.ok(dir, "verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "WRONG_HOST.pem");
        Openssl.Result refused = Openssl.run(dir, "verify", "-CAfile", "ca.pem", "-verify_hostname", "localhost",
                "WRONG_HOST.pem");
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.output().contains("hostname mismatch"), refused.output());
    }

    @Test
    void opensslRefusesTheExpiredCertificateBecauseItHasExpired() throws Exception {
        Openssl.Result refused = Openssl.run(dir, "verify", "-CAfile", "ca.pem", "-verify_hostname", "localhost",
                "EXPIRED.pem");
        assertNotEquals(0, refused.exitCode());
        assertTrue(refused.output().contains("certificate has expired"), refused.output());
    }

    @Test
    void opensslVerifiesTheClientCertificateForClientAuthenticationAndReadsItsKey() throws Exception {
        assertEquals("alice.pem: OK", Openssl.ok(dir, "verify", "-CAfile", "ca.pem", "-purpose", "sslclient",
                "alice.pem").strip());
        Openssl.Result asServer = Openssl.run(dir, "verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "alice.pem");
        assertNotEquals(0, asServer.exitCode(), "a client certificate is not a server one:\n" + asServer.output());
        String keyText = Openssl.ok(dir, "pkey", "-in", "alice-key.pem", "-noout", "-text");
        assertTrue(keyText.contains("NIST CURVE: P-256"), keyText);
        String certKey = Openssl.ok(dir, "x509", "-in", "alice.pem", "-noout", "-pubkey");
        String keyPub = Openssl.ok(dir, "pkey", "-in", "alice-key.pem", "-pubout");
        assertEquals(certKey, keyPub, "the key file holds the certificate's key");
    }
}
