package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.tls.CertificateAuthority;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve}'s start, as a process: {@code /ready} until the start is complete, and a signal that
 * comes while it starts or while it drains. A named pipe (FIFO) holds the start at a known point: the
 * server blocks reading {@code --tls-client-ca} from it, or writing {@code --tls-ca-out} into it, until the test says.
 */
@Timeout(120)
class ServeStartTest {

    @TempDir
    Path dir;

    private final List<Path> fifos = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void readyStaysStartingUntilTheFilesTheServerWritesAreWrittenThenTurnsReady() throws Exception {
        Path ca = fifo("ca.pem");
        int metricsPort = freePort();
        try (ChildServer server = ChildServer.start(0, "--tls-port", "0", "--tls-ca-out", ca.toString(),
                "--metrics-port", String.valueOf(metricsPort))) {
            // The server now waits for a reader of its CA file: its start cannot be complete.
            HttpResponse<String> ready = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .ignoreExceptions().until(() -> get(metricsPort, "/ready"), Objects::nonNull);
            assertEquals(503, ready.statusCode(), "ready before --tls-ca-out was written: " + ready.body());
            assertEquals("{\"ready\":false,\"reason\":\"starting\"}\n", ready.body());

            String pem = CompletableFuture.supplyAsync(() -> read(ca)).get(30, TimeUnit.SECONDS);
            assertTrue(pem.startsWith("-----BEGIN CERTIFICATE-----"), pem);
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> get(metricsPort, "/ready").statusCode() == 200);
            assertEquals("{\"ready\":true}\n", get(metricsPort, "/ready").body());
        }
    }

    @Test
    void aSignalWhileTheServerStartsStopsItOnceStartedAndExitsZero() throws Exception {
        String clientCa = CertificateAuthority.generate().certificatePem();
        Path authorities = fifo("client-ca.pem");
        // Open for reading and writing: the server's open for reading then needs no other writer, and its
        // reads wait until this channel writes and closes.
        try (FileChannel pipe = FileChannel.open(authorities, StandardOpenOption.READ, StandardOpenOption.WRITE);
             ChildServer server = ChildServer.start(0, "--tls-port", "0", "--tls-client-auth", "want",
                     "--tls-client-ca", authorities.toString())) {
            Path opened = authorities.toRealPath(); // what /proc/PID/fd links to
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> !alive(server.pid()) || hasOpen(server.pid(), opened));
            assertTrue(alive(server.pid()), "the server did not wait for its client CA file:\n" + server.output());
            server.terminate(); // the server is reading its configuration: it has not started yet
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> server.output().contains("SIGTERM received") || !alive(server.pid()));
            pipe.write(ByteBuffer.wrap(clientCa.getBytes(StandardCharsets.US_ASCII)));
            pipe.close();

            assertEquals(0, server.awaitExit(), "a SIGTERM during the start is a clean stop too:\n" + server.output());
            assertTrue(server.output().contains("SIGTERM received during start: stopping as soon as the server has started"),
                    server.output());
            List<String> stopped = stoppedLines(server);
            assertEquals(1, stopped.size(), server.output());
            assertTrue(stopped.getFirst().matches("loom-echo stopped on SIGTERM after \\d+m?s: no connection was open"),
                    stopped.getFirst());
        }
    }

    /**
     * Review (5c16a3c): the handlers are installed before the start, so a start that never completes (a
     * --tls-client-ca or --tls-ca-out on a pipe or a hung mount) can no longer be stopped by any signal but
     * SIGKILL: SIGTERM and a second SIGINT only log. Before 38a7ae1 the JVM's default exit (143) ended it.
     */
    @Test
    void signalsEndAStartThatNeverCompletes() throws Exception {
        Path authorities = fifo("stuck-client-ca.pem");
        try (FileChannel pipe = FileChannel.open(authorities, StandardOpenOption.READ, StandardOpenOption.WRITE);
             ChildServer server = ChildServer.start(0, "--tls-port", "0", "--tls-client-auth", "want",
                     "--tls-client-ca", authorities.toString())) {
            Path opened = authorities.toRealPath();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> !alive(server.pid()) || hasOpen(server.pid(), opened));
            server.terminate();
            await().atMost(Duration.ofSeconds(10)).until(() -> server.output().contains("SIGTERM received") || !alive(server.pid()));
            new ProcessBuilder("kill", "-INT", String.valueOf(server.pid())).start().waitFor(); // the impatient Ctrl-C
            await().atMost(Duration.ofSeconds(20)).until(() -> !alive(server.pid()));
            assertEquals(130, server.awaitExit(), "128 + SIGINT:\n" + server.output());
            assertTrue(server.output().contains("SIGINT received while still starting (stopping on SIGTERM once started): "
                    + "ending the process at once, exit 130"), server.output());
        }
    }

    @Test
    void aSecondSignalDuringTheDrainIsLoggedAndTheDrainGoesOn() throws Exception {
        try (ChildServer server = ChildServer.start(0, "--drain-timeout", "30s")) {
            try (TestClient client = new TestClient(server.address())) {
                assertArrayEquals(new byte[] {1}, client.echo(new byte[] {1}));
                server.terminate();
                await().atMost(Duration.ofSeconds(10)).until(() -> server.output().contains("SIGTERM received"));
                new ProcessBuilder("kill", "-INT", String.valueOf(server.pid())).start().waitFor(); // an impatient Ctrl-C
                await().atMost(Duration.ofSeconds(10)).until(() -> server.output().contains("SIGINT received while already stopping"));
                assertTrue(server.output().contains("SIGINT received while already stopping on SIGTERM: open connections may "
                        + "finish until the drain timeout (30s) passes, then are closed"), server.output());
                assertArrayEquals(new byte[] {2}, client.echo(new byte[] {2}), "the drain goes on serving the open connection");
            }
            assertEquals(0, server.awaitExit(), server.output());
            List<String> stopped = stoppedLines(server);
            assertEquals(1, stopped.size(), server.output());
            assertTrue(stopped.getFirst().matches("loom-echo stopped on SIGTERM after \\d+m?s: 1 connection open, "
                    + "1 finished within the drain timeout \\(30s\\), 0 closed at it"), stopped.getFirst());
        }
    }

    /**
     * A test that failed midway may leave a thread of ours blocked opening a FIFO: opening it for reading
     * and writing, which never blocks, gives that open its other end.
     */
    @AfterEach
    void releaseTheFifos() throws IOException {
        for (Path fifo : fifos) {
            FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
        }
    }

    private Path fifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo failed");
        fifos.add(fifo);
        return fifo;
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    /** Whether process {@code pid} has {@code file} open (its /proc/PID/fd links). */
    private static boolean hasOpen(long pid, Path file) throws IOException {
        try (Stream<Path> descriptors = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return descriptors.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(file);
                } catch (IOException gone) {
                    return false; // closed meanwhile
                }
            });
        }
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static List<String> stoppedLines(ChildServer server) {
        return server.output().lines().filter(line -> line.startsWith("loom-echo stopped")).toList();
    }
}
