package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.Stats;
import dev.loomecho.TestClient;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class CompletionEngineTest {

    /**
     * Thousands of tiny pipelined writes make partial reads and writes the norm. A second write issued
     * while one is pending would throw WritePendingException (counted in errors); a read issued before
     * the echo was written would let unechoed bytes exceed one buffer. Neither may ever be seen.
     */
    @Test
    void neverHasTwoOperationsInFlightOnAChannel() throws Exception {
        int bufferCap = 1024;
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 20_000; i++) {
            expected.writeBytes(TestClient.randomBytes(1 + i % 300, i));
        }
        byte[] payload = expected.toByteArray();
        try (EchoServer server = EchoServer.builder().port(0).engine(Engine.COMPLETION).bufferSize(bufferCap).start();
             TestClient client = TestClient.connect(server)) {
            AtomicLong maxUnechoed = new AtomicLong();
            CompletableFuture<Void> sampler = CompletableFuture.runAsync(() -> {
                while (server.stats().bytesOut() < payload.length) { // bounded: ends with the transfer
                    Stats s = server.stats();
                    maxUnechoed.accumulateAndGet(s.bytesIn() - s.bytesOut(), Math::max);
                    LockSupport.parkNanos(20_000);
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    for (int offset = 0, i = 0; offset < payload.length; i++) {
                        int length = Math.min(1 + i % 300, payload.length - offset);
                        client.send(java.util.Arrays.copyOfRange(payload, offset, offset + length));
                        offset += length;
                    }
                } catch (java.io.IOException e) {
                    throw new RuntimeException(e);
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            assertArrayEquals(payload, client.readExactly(payload.length));
            sent.join();
            sampler.join();
            assertEquals(0, server.stats().errors(), "an operation failed, e.g. WritePendingException");
            assertTrue(maxUnechoed.get() <= bufferCap, "unechoed bytes reached " + maxUnechoed.get());
        }
    }
}
