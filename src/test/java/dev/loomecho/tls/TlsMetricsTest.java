package dev.loomecho.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.TestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** With a TLS listener, /metrics labels each connection metric by listener and counts failed handshakes. */
@Timeout(60)
class TlsMetricsTest {

    @Test
    void connectionMetricsCarryATlsLabelAndSumToTheTotals() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).metricsPort(0).tls(TlsConfig.defaults()).start();
             HttpClient http = HttpClient.newHttpClient()) {
            try (TestClient tls = new TestClient(JavaTlsClient.connect(server.tls().clientContext(), "localhost", server.tlsPort()));
                 TestClient plain = TestClient.connect(server)) {
                assertArrayEquals(new byte[10], tls.echo(new byte[10]));
                assertArrayEquals(new byte[3], plain.echo(new byte[3]));
            }
            ServerTls stranger = ServerTls.create(TlsConfig.defaults());
            try {
                JavaTlsClient.connect(stranger.clientContext(), "localhost", server.tlsPort()).close();
                throw new AssertionError("a client trusting another CA connected");
            } catch (SSLHandshakeException expected) {
                // counted below
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().handshakeFailures() == 1);
            String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.metricsAddress().orElseThrow().getPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (String sample : new String[] {
                    "loomecho_connections_accepted_total{engine=\"virtual\",tls=\"false\"} 1",
                    "loomecho_connections_accepted_total{engine=\"virtual\",tls=\"true\"} 2",
                    "loomecho_received_bytes_total{engine=\"virtual\",tls=\"false\"} 3",
                    "loomecho_received_bytes_total{engine=\"virtual\",tls=\"true\"} 10",
                    "loomecho_tls_handshake_failures_total{engine=\"virtual\"} 1"}) {
                assertTrue(text.lines().anyMatch(sample::equals), "no line " + sample + " in:\n" + text);
            }
        }
    }
}
