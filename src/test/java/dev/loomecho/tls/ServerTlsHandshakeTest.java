package dev.loomecho.tls;

import static dev.loomecho.tls.GeneratedCertificatesTest.cause;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Real handshakes between a JDK client and {@link ServerTls}'s server contexts, on loopback. */
@Timeout(60)
class ServerTlsHandshakeTest {

    @Test
    void aClientCheckingTheHostNameConnectsByEachOfTheThreeNamesAndEchoesBytesExactly() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.defaults());
        try (TlsTestServer v4 = TlsTestServer.start(tls, ServedCertificate.VALID, InetAddress.getByName("127.0.0.1"));
             TlsTestServer v6 = TlsTestServer.start(tls, ServedCertificate.VALID, InetAddress.getByName("::1"))) {
            for (String host : new String[] {"localhost", "127.0.0.1", "::1"}) {
                int port = host.equals("::1") ? v6.port() : v4.port();
                if (host.equals("localhost") && InetAddress.getByName("localhost") instanceof java.net.Inet6Address) {
                    port = v6.port();
                }
                try (SSLSocket socket = JavaTlsClient.connect(tls.clientContext(), host, port)) {
                    byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
                    assertArrayEquals(echo[0], echo[1], "echo over TLS to " + host);
                }
            }
        }
    }

    @Test
    void theWrongHostCertificatePassesTheChainCheckButFailsTheHostNameCheck() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.defaults());
        try (TlsTestServer server = TlsTestServer.start(tls, ServedCertificate.WRONG_HOST, InetAddress.getByName("127.0.0.1"))) {
            for (String host : new String[] {"localhost", "127.0.0.1"}) {
                SSLHandshakeException refused = assertThrows(SSLHandshakeException.class,
                        () -> JavaTlsClient.connect(tls.clientContext(), host, server.port()));
                CertificateException reason = cause(refused, CertificateException.class);
                assertTrue(reason.getMessage().startsWith("No subject alternative")
                        && reason.getMessage().contains(host.equals("localhost") ? "DNS name matching localhost" : "IP address 127.0.0.1"),
                        reason.getMessage());
            }
        }
    }

    @Test
    void theExpiredCertificateFailsTheHandshakeWithTheExpiryReason() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.defaults());
        try (TlsTestServer server = TlsTestServer.start(tls, ServedCertificate.EXPIRED, InetAddress.getByName("127.0.0.1"))) {
            SSLHandshakeException refused = assertThrows(SSLHandshakeException.class,
                    () -> JavaTlsClient.connect(tls.clientContext(), "localhost", server.port()));
            assertEquals(CertPathValidatorException.BasicReason.EXPIRED,
                    cause(refused, CertPathValidatorException.class).getReason());
        }
    }

    @Test
    void needServesAClientWithACertificateFromTheCaAndRefusesOneWithout() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().clientAuth(ClientAuth.NEED).build());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            HeldCertificate alice = tls.issueClientCertificate("alice");
            try (SSLSocket socket = JavaTlsClient.connect(tls.clientContext(alice), "localhost", server.port())) {
                byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
                assertArrayEquals(echo[0], echo[1]);
            }
            assertEquals(new TlsTestServer.Handshake("", "CN=alice,O=loom-echo"), server.nextOutcome());

            // TLS 1.3: the client's handshake ends before the server has checked the client; the refusal comes as an alert.
            assertRefusedAfterHandshake(tls.clientContext(), server.port());
            SSLHandshakeException reason = assertInstanceOf(SSLHandshakeException.class, server.nextOutcome());
            assertTrue(reason.getMessage().contains("Empty client certificate chain"), reason.getMessage());
        }
    }

    @Test
    void needRefusesAClientCertificateFromAnotherCa() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().clientAuth(ClientAuth.NEED).build());
        ServerTls stranger = ServerTls.create(TlsConfig.defaults());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            HeldCertificate mallory = stranger.issueClientCertificate("mallory");
            javax.net.ssl.SSLContext context = KeyStores.context(
                    KeyStores.holding(mallory.privateKey(), List.of(mallory.certificate())), tls.trustManager());
            assertRefusedAfterHandshake(context, server.port());
            SSLHandshakeException reason = assertInstanceOf(SSLHandshakeException.class, server.nextOutcome());
            assertTrue(reason.getMessage().contains("PKIX path"), reason.getMessage());
        }
    }

    @Test
    void aClientCaFileReplacesTheGeneratedCaForClientCertificates(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        ServerTls clientsCa = ServerTls.create(TlsConfig.defaults());
        java.nio.file.Path caFile = java.nio.file.Files.writeString(dir.resolve("clients-ca.pem"), clientsCa.caCertificatePem());
        ServerTls tls = ServerTls.create(TlsConfig.builder().clientAuth(ClientAuth.NEED).clientCa(caFile).build());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            HeldCertificate dave = clientsCa.issueClientCertificate("dave");
            javax.net.ssl.SSLContext trusted = KeyStores.context(
                    KeyStores.holding(dave.privateKey(), List.of(dave.certificate())), tls.trustManager());
            try (SSLSocket socket = JavaTlsClient.connect(trusted, "localhost", server.port())) {
                byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
                assertArrayEquals(echo[0], echo[1]);
            }
            assertEquals(new TlsTestServer.Handshake("", "CN=dave,O=loom-echo"), server.nextOutcome());
            assertRefusedAfterHandshake(tls.clientContext(tls.issueClientCertificate("eve")), server.port());
            assertInstanceOf(SSLHandshakeException.class, server.nextOutcome(), "the generated CA is no longer trusted for clients");
        }
    }

    @Test
    void wantServesAClientWithoutACertificateAndSeesTheOneThatHasIt() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().clientAuth(ClientAuth.WANT).build());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            try (SSLSocket socket = JavaTlsClient.connect(tls.clientContext(), "localhost", server.port())) {
                byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
                assertArrayEquals(echo[0], echo[1]);
            }
            assertEquals(new TlsTestServer.Handshake("", null), server.nextOutcome());
            try (SSLSocket socket = JavaTlsClient.connect(tls.clientContext(tls.issueClientCertificate("bob")),
                    "localhost", server.port())) {
                byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
                assertArrayEquals(echo[0], echo[1]);
            }
            assertEquals(new TlsTestServer.Handshake("", "CN=bob,O=loom-echo"), server.nextOutcome());
        }
    }

    @Test
    void onlyTls12IsNegotiatedWhenTheProtocolsSaySoAndATls13OnlyClientIsRefused() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().protocols("TLSv1.2").build());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            try (SSLSocket socket = JavaTlsClient.connect(tls.clientContext(), "localhost", server.port())) {
                assertEquals("TLSv1.2", socket.getSession().getProtocol());
                byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
                assertArrayEquals(echo[0], echo[1]);
            }
            assertThrows(SSLHandshakeException.class,
                    () -> JavaTlsClient.connect(tls.clientContext(), "localhost", server.port(), List.of(), "TLSv1.3"));
        }
    }

    @Test
    void alpnGivesTheClientTheFirstOfTheServersProtocolsItOffers() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().alpn("h2", "http/1.1").build());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            try (SSLSocket socket = JavaTlsClient.connect(tls.clientContext(), "localhost", server.port(),
                    List.of("http/1.1", "h2"))) {
                assertEquals("h2", socket.getApplicationProtocol());
            }
            try (SSLSocket socket = JavaTlsClient.connect(tls.clientContext(), "localhost", server.port(),
                    List.of("spdy/3", "http/1.1"))) {
                assertEquals("http/1.1", socket.getApplicationProtocol());
                byte[][] echo = JavaTlsClient.echoRandomBytes(socket);
                assertArrayEquals(echo[0], echo[1]);
            }
        }
    }

    @Test
    void alpnRefusesAClientOfferingOnlyOtherProtocols() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().alpn("h2").build());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            SSLHandshakeException refused = assertThrows(SSLHandshakeException.class,
                    () -> JavaTlsClient.connect(tls.clientContext(), "localhost", server.port(), List.of("http/1.1")));
            assertTrue(refused.getMessage().contains("no_application_protocol"), refused.getMessage());
        }
    }

    @Test
    void alpnRefusesAClientOfferingNoProtocolInTls13AndTls12() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().alpn("h2").build());
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
                SSLHandshakeException refused = assertThrows(SSLHandshakeException.class,
                        () -> JavaTlsClient.connect(tls.clientContext(), "localhost", server.port(), List.of(), protocol));
                assertTrue(refused.getMessage().contains("handshake_failure"), protocol + ": " + refused.getMessage());
            }
        }
    }

    @Test
    void alpnRefusesAClientOfferingNoProtocolEvenWhenItResumesASession() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.builder().alpn("h2").build());
        javax.net.ssl.SSLContext client = tls.clientContext(); // one context: its session cache offers resumption
        try (TlsTestServer server = TlsTestServer.start(tls)) {
            for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
                try (SSLSocket socket = JavaTlsClient.connect(client, "localhost", server.port(), List.of("h2"), protocol)) {
                    assertEquals("h2", socket.getApplicationProtocol());
                    socket.getOutputStream().write(1);
                    assertEquals(1, socket.getInputStream().read()); // TLS 1.3 tickets arrive after the handshake
                }
                SSLHandshakeException refused = assertThrows(SSLHandshakeException.class,
                        () -> JavaTlsClient.connect(client, "localhost", server.port(), List.of(), protocol));
                assertTrue(refused.getMessage().contains("handshake_failure"), protocol + ": " + refused.getMessage());
            }
        }
    }

    @Test
    void withoutAlpnConfiguredAClientOfferingProtocolsGetsNone() throws Exception {
        ServerTls tls = ServerTls.create(TlsConfig.defaults());
        try (TlsTestServer server = TlsTestServer.start(tls);
             SSLSocket socket = JavaTlsClient.connect(tls.clientContext(), "localhost", server.port(), List.of("h2"))) {
            assertEquals("", socket.getApplicationProtocol());
        }
    }

    /**
     * In TLS 1.3 the client's handshake may end before the server has checked the client's certificate,
     * so the refusal (the server's alert or close) meets the client in the handshake or at its first write or read.
     */
    private static void assertRefusedAfterHandshake(javax.net.ssl.SSLContext context, int port) {
        assertThrows(IOException.class, () -> {
            try (SSLSocket socket = JavaTlsClient.connect(context, "localhost", port)) {
                socket.getOutputStream().write(0);
                socket.getInputStream().read();
            }
        });
    }
}
