package dev.loomecho.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.TestClient;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.TlsFaults;
import dev.loomecho.tls.ServerKey;
import dev.loomecho.tls.ServerTls;
import dev.loomecho.tls.TlsConfig;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The control API's side of TLS: the CA over HTTP, and the TLS faults as JSON keys. */
@Timeout(60)
class TlsControlTest {

    private static EchoServer start(TlsConfig tls) throws Exception {
        return EchoServer.builder().port(0).controlPort(0).tls(tls).drainTimeout(Duration.ZERO).start();
    }

    @Test
    void servesTheGeneratedCaAsPem() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults());
             ControlClient control = new ControlClient(server.controlAddress().orElseThrow())) {
            HttpResponse<String> response = control.get("/tls/ca.pem");
            assertEquals(200, response.statusCode());
            assertEquals("application/x-pem-file", response.headers().firstValue("Content-Type").orElseThrow());
            X509Certificate served = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                    new ByteArrayInputStream(response.body().getBytes(StandardCharsets.US_ASCII)));
            assertEquals(server.tls().caCertificate(), served);
            assertEquals(405, control.send("PUT", "/tls/ca.pem", "x").statusCode());
        }
    }

    @Test
    void hasNoCaToServeWithoutTlsOrWithTheUsersOwnKey() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).controlPort(0).start();
             ControlClient control = new ControlClient(server.controlAddress().orElseThrow())) {
            HttpResponse<String> response = control.get("/tls/ca.pem");
            assertEquals(404, response.statusCode());
            assertTrue(response.body().contains("no TLS listener"), response.body());
        }
        ServerTls other = ServerTls.create(TlsConfig.defaults());
        var held = other.issueClientCertificate("not-a-server-but-a-key-and-chain");
        ServerKey own = new ServerKey(held.privateKey(), List.of(held.certificate()));
        try (EchoServer server = start(TlsConfig.builder().key(own).build());
             ControlClient control = new ControlClient(server.controlAddress().orElseThrow())) {
            HttpResponse<String> response = control.get("/tls/ca.pem");
            assertEquals(404, response.statusCode());
            assertTrue(response.body().contains("your own certificate"), response.body());
            HttpResponse<String> refused = control.put("/faults", "{\"tls-cert-expired\": true}");
            assertEquals(400, refused.statusCode());
            assertTrue(refused.body().contains("with your own key"), refused.body());
        }
    }

    @Test
    void tlsFaultsAreJsonKeysSetAtRuntime() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults());
             ControlClient control = new ControlClient(server.controlAddress().orElseThrow())) {
            HttpResponse<String> set = control.put("/faults", "{\"tls-cert-expired\": true, \"tls-handshake-delay\": 10}");
            assertEquals(200, set.statusCode(), set.body());
            assertEquals(Faults.NONE.withTls(TlsFaults.NONE.withCertExpired(true).withHandshakeDelay(Duration.ofMillis(10))),
                    server.faults());
            assertTrue(set.body().contains("\"tls-cert-expired\":true"), set.body());
            SSLHandshakeException refused = assertThrows(SSLHandshakeException.class, () -> connect(server));
            assertTrue(causes(refused, CertificateExpiredException.class), "expired, by the client's own check");

            assertEquals(200, control.put("/faults", "{\"tls-truncate-after\": \"2\"}").statusCode());
            try (SSLSocket socket = connect(server)) {
                socket.getOutputStream().write(new byte[] {1, 2, 3, 4});
                assertArrayEquals(new byte[] {1, 2}, socket.getInputStream().readAllBytes());
            }
            assertEquals(200, control.delete("/faults").statusCode());
            try (TestClient client = new TestClient(connect(server))) {
                assertArrayEquals(new byte[] {1, 2, 3, 4}, client.echo(new byte[] {1, 2, 3, 4}));
            }
        }
    }

    @Test
    void tlsFaultsAreRefusedOnAServerWithoutTls() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).controlPort(0).start();
             ControlClient control = new ControlClient(server.controlAddress().orElseThrow())) {
            HttpResponse<String> refused = control.put("/faults", "{\"tls-stall-handshake\": true}");
            assertEquals(400, refused.statusCode());
            assertTrue(refused.body().contains("need a TLS listener"), refused.body());
            assertEquals(200, control.put("/faults", "{\"tls-stall-handshake\": false}").statusCode(), "off is no fault");
        }
    }

    private static SSLSocket connect(EchoServer server) throws Exception {
        SSLSocket socket = (SSLSocket) server.tls().clientContext().getSocketFactory().createSocket("localhost", server.tlsPort());
        socket.setSoTimeout(15_000);
        try {
            socket.startHandshake();
        } catch (Exception e) {
            socket.close();
            throw e;
        }
        return socket;
    }

    private static boolean causes(Throwable thrown, Class<? extends Throwable> type) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
