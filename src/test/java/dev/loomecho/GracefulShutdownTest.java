package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
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
        }
    }
}
