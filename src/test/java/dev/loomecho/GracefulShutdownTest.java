package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class GracefulShutdownTest {

    @Test
    void sigtermLetsATransferInFlightFinishThenExitsZero() throws Exception {
        byte[] payload = TestClient.randomBytes(8 << 20, 5);
        try (ChildServer server = ChildServer.start(0, "--drain-timeout", "30s");
             TestClient client = new TestClient(server.address())) {
            CompletableFuture<Void> sent = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    int half = payload.length / 2;
                    client.send(java.util.Arrays.copyOfRange(payload, 0, half));
                    sent.complete(null);
                } catch (IOException e) {
                    sent.completeExceptionally(e);
                }
            });
            byte[] first = client.readExactly(1 << 20); // the transfer is under way...
            server.terminate();                            // ...when SIGTERM arrives
            sent.join();
            client.send(java.util.Arrays.copyOfRange(payload, payload.length / 2, payload.length));
            client.shutdownOutput();
            byte[] rest = client.readToEnd();

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
