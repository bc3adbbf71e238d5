package dev.loomecho.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.ServerConfig;
import dev.loomecho.TestClient;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class HealthPagesTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> request(InetSocketAddress at, String method, String path) throws IOException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path))
                    .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(e.toString());
        }
    }

    @Test
    void theMetricsPortAnswersHealthAndReadyWithoutMakingAnEchoConnection() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).metricsPort(0).start()) {
            InetSocketAddress metrics = server.metricsAddress().orElseThrow();
            HttpResponse<String> health = request(metrics, "GET", "/health");
            assertEquals(200, health.statusCode());
            assertEquals("{\"status\":\"up\"}\n", health.body());
            assertTrue(health.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            HttpResponse<String> ready = request(metrics, "GET", "/ready");
            assertEquals(200, ready.statusCode());
            assertEquals("{\"ready\":true}\n", ready.body());
            assertEquals(200, request(metrics, "HEAD", "/ready").statusCode());
            assertEquals(405, request(metrics, "POST", "/health").statusCode());
            assertEquals(404, request(metrics, "GET", "/healthz").statusCode());
            assertEquals(404, request(metrics, "GET", "/ready/x").statusCode());
            assertEquals(200, request(metrics, "GET", "/metrics").statusCode(), "metrics are still served");
            assertEquals(0, server.stats().accepted(), "a probe is no echo connection");
        }
    }

    @Test
    void theControlPortAnswersThemWithoutTheTokenItsOtherPathsNeed() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).controlPort(0).controlToken("s3cret").start()) {
            InetSocketAddress control = server.controlAddress().orElseThrow();
            assertEquals(200, request(control, "GET", "/health").statusCode(), "probes carry no token");
            assertEquals(200, request(control, "GET", "/ready").statusCode());
            assertEquals(401, request(control, "GET", "/faults").statusCode(), "everything else still needs it");
            assertEquals(0, server.stats().accepted());
        }
    }

    @Test
    void readyIsStartingUntilTheStartIsCompleteThoughTheEchoAlreadyServes() throws Exception {
        ServerConfig config = EchoServer.builder().port(0).metricsPort(0).controlPort(0).build();
        try (EchoServer server = EchoServer.start(config, started -> {
            assertNotReadyButUp("starting", "a probe must not send clients before the start is complete",
                    started.metricsAddress().orElseThrow(), started.controlAddress().orElseThrow());
            try (TestClient client = TestClient.connect(started)) {
                assertArrayEquals(new byte[] {4}, client.echo(new byte[] {4}), "the listener is up before /ready says so");
            }
        })) {
            assertEquals(200, request(server.metricsAddress().orElseThrow(), "GET", "/ready").statusCode());
            assertEquals(200, request(server.controlAddress().orElseThrow(), "GET", "/ready").statusCode());
        }
    }

    @Test
    void aFailedStartClosesTheProbesPagesItOpenedFirst() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int metricsPort = freePort();
            assertThrows(BindException.class, () -> EchoServer.builder().port(taken.getLocalPort()).metricsPort(metricsPort).start());
            assertThrows(IOException.class, () -> request(new InetSocketAddress("127.0.0.1", metricsPort), "GET", "/health"),
                    "the metrics port of a server that failed to start still answers");
        }
    }

    /** On each port: /ready 503 for {@code state}, /health 200 saying so (a liveness probe must not kill it). */
    private void assertNotReadyButUp(String state, String whyNotReady, InetSocketAddress... ports) throws IOException {
        for (InetSocketAddress port : ports) {
            HttpResponse<String> ready = request(port, "GET", "/ready");
            assertEquals(503, ready.statusCode(), whyNotReady);
            assertEquals("{\"ready\":false,\"reason\":\"" + state + "\"}\n", ready.body());
            HttpResponse<String> health = request(port, "GET", "/health");
            assertEquals(200, health.statusCode(), "a liveness probe must not kill a " + state + " server");
            assertEquals("{\"status\":\"up\",\"" + state + "\":true}\n", health.body());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    @Test
    void readyTurnsUnavailableWhileTheServerDrainsAndHealthStaysUp() throws Exception {
        EchoServer server = EchoServer.builder().port(0).metricsPort(0).controlPort(0).drainTimeout(Duration.ofSeconds(30)).start();
        InetSocketAddress metrics = server.metricsAddress().orElseThrow();
        InetSocketAddress control = server.controlAddress().orElseThrow();
        CompletableFuture<Void> closing;
        try (TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {7}, client.echo(new byte[] {7})); // open: the drain waits for it
            assertTrue(server.accepting());
            closing = CompletableFuture.runAsync(server::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.accepting());
            assertNotReadyButUp("draining", "a load balancer must send no new client to a draining server", metrics, control);
            assertFalse(closing.isDone(), "the drain waits for the open client");
        }
        closing.get(); // the client left: the drain ends
        EchoServer.Drain drain = server.awaitClosed();
        assertEquals(1, drain.open());
        assertEquals(1, drain.finished());
        assertEquals(0, drain.cutOff());
        try {
            request(metrics, "GET", "/health");
            throw new AssertionError("the metrics port is still open after close()");
        } catch (IOException expected) {
            // closed with the server
        }
    }

    @Test
    void aDrainCutShortCountsTheConnectionsItClosed() throws Exception {
        EchoServer server = EchoServer.builder().port(0).drainTimeout(Duration.ofMillis(100)).start();
        try (TestClient stays = TestClient.connect(server); TestClient alsoStays = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {1}, stays.echo(new byte[] {1}));
            assertArrayEquals(new byte[] {2}, alsoStays.echo(new byte[] {2}));
            server.close();
            EchoServer.Drain drain = server.awaitClosed();
            assertEquals(2, drain.open());
            assertEquals(2, drain.cutOff(), "neither client left within the drain timeout");
            assertTrue(drain.took().compareTo(Duration.ofMillis(100)) >= 0, drain.toString());
        }
    }
}
