package dev.loomecho.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.ChildServer;
import dev.loomecho.EchoServer;
import dev.loomecho.TestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ObservabilityTest {

    private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)\\{engine=\"([a-z]+)\"} (\\d+)$");

    @Test
    void metricsEndpointServesPrometheusTextThatMatchesTheStats() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).metricsPort(0).start();
             HttpClient http = HttpClient.newHttpClient()) {
            try (TestClient client = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {1, 2, 3}, client.echo(new byte[] {1, 2, 3}));
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().active() == 0);
            URI uri = URI.create("http://" + server.metricsAddress().orElseThrow().getHostString() + ":"
                    + server.metricsAddress().orElseThrow().getPort() + "/metrics");
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(200, response.statusCode());
            assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            Map<String, Long> samples = parse(response.body());
            assertEquals(1, samples.get("loomecho_connections_accepted_total"));
            assertEquals(0, samples.get("loomecho_connections_active"));
            assertEquals(3, samples.get("loomecho_received_bytes_total"));
            assertEquals(3, samples.get("loomecho_sent_bytes_total"));
            assertEquals(12 + 5, samples.size(), "every metric of Stats and the five thread gauges are exported");
            assertEquals(0, samples.get("loomecho_buffer_bytes_in_use"), "the closed connection gave its buffer back");
            assertEquals(64 * 1024, samples.get("loomecho_buffer_bytes_pooled"), "one slab of 256 B buffers, kept");
            assertEquals(0, samples.get("loomecho_buffer_allocation_failures_total"));
            assertTrue(samples.get("loomecho_platform_threads") >= 3, "at least the accept, reaper and metrics threads");
            assertEquals(expectedParallelism(), samples.get("loomecho_vthread_scheduler_parallelism"));
            assertTrue(samples.get("loomecho_vthread_scheduler_pool_size") <= samples.get("loomecho_vthread_scheduler_parallelism") + 256);
            // The scrape itself runs on a virtual thread, so at least that one is mounted while it reads.
            assertTrue(samples.get("loomecho_vthread_scheduler_mounted") >= 1);
            assertTrue(samples.get("loomecho_vthread_scheduler_queued") >= 0);

            HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
        }
    }

    /** The scheduler's default: one carrier per processor, unless the JVM was told otherwise. */
    private static long expectedParallelism() {
        String configured = System.getProperty("jdk.virtualThreadScheduler.parallelism");
        return configured != null ? Long.parseLong(configured) : Runtime.getRuntime().availableProcessors();
    }

    @Test
    void liveViewLogsConnectionsBytesAndThreadsEveryInterval() throws Exception {
        try (ChildServer server = ChildServer.start(0, "--stats-interval", "200ms")) {
            try (TestClient client = new TestClient(server.address())) {
                assertArrayEquals(new byte[] {5, 6}, client.echo(new byte[] {5, 6}));
                await().atMost(Duration.ofSeconds(10)).until(() -> server.output().contains("connections 1 active, 1 accepted"));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.output().lines()
                    .filter(line -> line.contains("StatsLog")).count() >= 3);
            String line = server.output().lines().filter(l -> l.contains("connections 1 active")).findFirst().orElseThrow();
            assertTrue(line.contains("| buffers 256 B in use, 63.8 KiB pooled, 0 allocation failures |"), line);
            assertTrue(line.matches(".*\\| platform threads \\d+ \\| virtual-thread scheduler: parallelism \\d+, pool \\d+, "
                    + "mounted \\d+, queued \\d+$"), line);
        }
    }

    @Test
    void metricsAreServedOnlyAtTheirOwnPath() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).metricsPort(0).start();
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.metricsAddress().orElseThrow().getPort();
            for (String path : new String[] {"/metricsXYZ", "/metrics/extra", "/metrics.txt"}) {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(404, response.statusCode(), path);
            }
            HttpResponse<String> withQuery = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics?name=x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, withQuery.statusCode(), "a query string does not change the path");
        }
    }

    /** Parses the exposition text strictly: each sample must follow its own HELP and TYPE lines. */
    private static Map<String, Long> parse(String text) {
        Map<String, Long> samples = new HashMap<>();
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i += 3) {
            Matcher sample = SAMPLE.matcher(lines.get(i + 2));
            assertTrue(sample.matches(), "not a sample line: " + lines.get(i + 2));
            String name = sample.group(1);
            assertTrue(lines.get(i).startsWith("# HELP " + name + " "), lines.get(i));
            assertTrue(lines.get(i + 1).equals("# TYPE " + name + " counter") || lines.get(i + 1).equals("# TYPE " + name + " gauge"),
                    lines.get(i + 1));
            assertEquals(name.endsWith("_total"), lines.get(i + 1).endsWith("counter"), "counters end in _total");
            assertEquals("virtual", sample.group(2));
            samples.put(name, Long.parseLong(sample.group(3)));
        }
        return samples;
    }

    @Test
    void jfrRecordsConnectionOpenAndClose() throws Exception {
        Path file = Files.createTempFile("loom-echo", ".jfr");
        try (Recording recording = new Recording()) {
            recording.enable("dev.loomecho.ConnectionOpened");
            recording.enable("dev.loomecho.ConnectionClosed");
            recording.start();
            try (EchoServer server = EchoServer.builder().port(0).start()) {
                try (TestClient client = TestClient.connect(server)) {
                    client.echo(new byte[10]);
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().active() == 0);
            }
            recording.stop();
            recording.dump(file);
            List<RecordedEvent> events = RecordingFile.readAllEvents(file);
            RecordedEvent opened = events.stream().filter(e -> e.getEventType().getName().equals("dev.loomecho.ConnectionOpened"))
                    .findFirst().orElseThrow();
            RecordedEvent closed = events.stream().filter(e -> e.getEventType().getName().equals("dev.loomecho.ConnectionClosed"))
                    .findFirst().orElseThrow();
            assertEquals(opened.getLong("id"), closed.getLong("id"));
            assertEquals(10, closed.getLong("bytesIn"));
            assertEquals(10, closed.getLong("bytesOut"));
            assertTrue(closed.getString("remote").contains("127.0.0.1"));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void logConnectionsWritesOneLinePerClosedConnection() throws Exception {
        try (ChildServer server = ChildServer.start(0, "--log-connections")) {
            for (int i = 0; i < 2; i++) {
                try (TestClient client = new TestClient(server.address())) {
                    client.echo(new byte[] {1, 2, 3, 4, 5});
                }
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> server.output().lines().filter(l -> l.contains("closed after")).count() == 2);
            assertTrue(server.output().contains("5 bytes in, 5 bytes out"), server.output());
        }
    }

    @Test
    void twoServersShareOnePortWithReusePort() throws Exception {
        try (EchoServer first = EchoServer.builder().port(0).reusePort(true).start();
             EchoServer second = EchoServer.builder().port(first.port()).reusePort(true).start()) {
            assertEquals(first.port(), second.port());
            for (int i = 0; i < 40; i++) {
                try (TestClient client = TestClient.connect(first)) {
                    assertArrayEquals(new byte[] {(byte) i}, client.echo(new byte[] {(byte) i}));
                }
            }
            assertEquals(40, first.stats().accepted() + second.stats().accepted());
            assertTrue(first.stats().accepted() > 0 && second.stats().accepted() > 0,
                    "the kernel spreads connections: " + first.stats().accepted() + " / " + second.stats().accepted());
        }
    }
}
