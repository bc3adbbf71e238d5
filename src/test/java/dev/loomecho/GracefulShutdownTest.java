package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class GracefulShutdownTest {

    @Test
    void sigtermLetsATransferInFlightFinishThenExitsZero() throws Exception {
        byte[] payload = TestClient.randomBytes(8 << 20, 5);
        int half = payload.length / 2;
        try (ChildServer server = ChildServer.start(0, "--drain-timeout", "30s");
             TestClient client = new TestClient(server.address())) {
            CountDownLatch terminated = new CountDownLatch(1);
            // The sender never waits for echoes and the reader never stops: neither side's buffers can fill up.
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    client.send(Arrays.copyOfRange(payload, 0, half));
                    terminated.await();
                    client.send(Arrays.copyOfRange(payload, half, payload.length)); // sent after SIGTERM
                    client.shutdownOutput();
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            byte[] first = client.readExactly(1 << 20); // the transfer is under way...
            server.terminate();                            // ...when SIGTERM arrives
            terminated.countDown();
            byte[] rest = client.readToEnd();
            sent.join();

            byte[] echoed = new byte[first.length + rest.length];
            System.arraycopy(first, 0, echoed, 0, first.length);
            System.arraycopy(rest, 0, echoed, first.length, rest.length);
            assertArrayEquals(payload, echoed, "every byte sent before and after SIGTERM comes back");
            assertEquals(0, server.awaitExit(), server.output());
            assertTrue(server.output().contains("SIGTERM received"), server.output());
            List<String> stopped = stoppedLines(server);
            assertEquals(1, stopped.size(), server.output());
            // The rest of the transfer may finish before the signal handler's close() begins: then none was open.
            assertTrue(stopped.getFirst().matches("loom-echo stopped on SIGTERM after \\d+m?s: (1 connection open, "
                    + "1 finished within the drain timeout \\(30s\\), 0 closed at it|no connection was open)"), stopped.getFirst());
            assertThrows(IOException.class, () -> new TestClient(server.address()).close(), "the port is closed");
        }
    }

    @Test
    void sigtermWithNoConnectionsExitsZeroAtOnce() throws Exception {
        try (ChildServer server = ChildServer.start(0)) {
            server.address();
            long started = System.nanoTime();
            server.terminate();
            assertEquals(0, server.awaitExit(), server.output());
            assertTrue(System.nanoTime() - started < 10_000_000_000L, "no drain wait without connections");
            assertEquals(1, stoppedLines(server).size(), server.output());
            assertTrue(stoppedLines(server).getFirst().matches("loom-echo stopped on SIGTERM after \\d+m?s: no connection was open"),
                    server.output());
        }
    }

    @Test
    void sigintEndsWithOneStoppedLineThatCountsWhatTheDrainTimeoutClosed() throws Exception {
        try (ChildServer server = ChildServer.start(0, "--drain-timeout", "300ms");
             TestClient stays = new TestClient(server.address());
             TestClient staysToo = new TestClient(server.address())) {
            assertArrayEquals(new byte[] {1}, stays.echo(new byte[] {1}));
            assertArrayEquals(new byte[] {2}, staysToo.echo(new byte[] {2}));
            new ProcessBuilder("kill", "-INT", String.valueOf(server.pid())).start().waitFor(); // Ctrl-C
            assertEquals(0, server.awaitExit(), server.output());
            List<String> stopped = stoppedLines(server);
            assertEquals(1, stopped.size(), server.output());
            assertTrue(stopped.getFirst().matches("loom-echo stopped on SIGINT after \\d+m?s: 2 connections open, "
                    + "0 finished within the drain timeout \\(300ms\\), 2 closed at it"), stopped.getFirst());
        }
    }

    @Test
    void withoutTheServeCommandServeOptionsStartTheServer() throws Exception {
        try (ChildServer server = ChildServer.startCommandLine("--port", "0", "--idle-timeout", "0")) {
            try (TestClient client = new TestClient(server.address())) {
                assertArrayEquals(new byte[] {3}, client.echo(new byte[] {3}));
            }
            assertTrue(server.output().contains("idle timeout off)"), server.output());
            server.terminate();
            assertEquals(0, server.awaitExit(), server.output());
        }
    }

    @Test
    void logLevelWarnLeavesOnlyWarningsErrorsAndTheServersOwnLines() throws Exception {
        try (ChildServer quiet = ChildServer.start(0, "--log-level", "warn");
             ChildServer usual = ChildServer.start(0)) {
            quiet.address();
            usual.address();
            quiet.terminate();
            usual.terminate();
            assertEquals(0, quiet.awaitExit(), quiet.output());
            assertEquals(0, usual.awaitExit(), usual.output());
            assertTrue(usual.output().contains(" INFO "), "at the default level the start is logged:\n" + usual.output());
            assertFalse(quiet.output().contains(" INFO "), quiet.output());
            assertTrue(quiet.output().contains("listening on") && stoppedLines(quiet).size() == 1, quiet.output());
        }
    }

    private static List<String> stoppedLines(ChildServer server) {
        return server.output().lines().filter(line -> line.startsWith("loom-echo stopped")).toList();
    }
}
