package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.EchoTarget.Feature;
import dev.loomecho.EchoTarget.Limits;
import dev.loomecho.EchoTarget.Running;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What an echo server must do as its clients see it, written once and run against every
 * {@link EchoTarget}: each engine in this JVM, and whatever else {@link EchoTargets} finds on this machine.
 * Where the target has counters (an engine in this JVM), the server side is checked too. What only an
 * embedded server can show — its lifecycle, idle timeout, faults — is in {@link EngineConformanceTest}.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("targets")
@Timeout(90)
class WireConformanceTest {

    static List<EchoTarget> targets() {
        return EchoTargets.all();
    }

    @Parameter
    EchoTarget target;

    private Running server;

    private Running start() throws Exception {
        return start(Limits.DEFAULT);
    }

    private Running start(Limits limits) throws Exception {
        server = target.start(limits);
        return server;
    }

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void echoesOneMessage() throws Exception {
        try (TestClient client = start().connect()) {
            byte[] hello = "hello, loom".getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(hello, client.echo(hello));
        }
    }

    @Test
    void echoesEveryByteValueIncludingNul() throws Exception {
        byte[] all = new byte[1024];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i; // 0x00 included four times: the seeds' strlen would stop at the first
        }
        try (TestClient client = start().connect()) {
            assertArrayEquals(all, client.echo(all));
        }
    }

    @Test
    void echoesOneMebibyteOfRandomBytesExactly() throws Exception {
        byte[] payload = TestClient.randomBytes(1 << 20, 42);
        try (TestClient client = start().connect()) {
            assertArrayEquals(payload, client.echo(payload));
        }
        server.stats().ifPresent(stats -> {
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().orElseThrow().bytesOut() == payload.length);
            assertEquals(payload.length, server.stats().orElseThrow().bytesIn());
        });
    }

    @Test
    void echoesAThousandPipelinedMessagesInOrder() throws Exception {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        List<byte[]> messages = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            byte[] message = ("message " + i + " " + "x".repeat(i % 97) + "\n").getBytes(StandardCharsets.US_ASCII);
            messages.add(message);
            expected.writeBytes(message);
        }
        try (TestClient client = start().connect()) {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    for (byte[] message : messages) {
                        client.send(message); // one write each, no waiting for the echo in between
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            assertArrayEquals(expected.toByteArray(), client.readExactly(expected.size()));
            sent.join();
        }
    }

    @Test
    void servesManyConcurrentClientsEachVerifyingItsChecksum() throws Exception {
        Running running = start();
        int clients = Math.min(200, running.capacity()); // a seed's select server serves 63, say
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                long seed = i;
                results.add(pool.submit(() -> {
                    byte[] payload = TestClient.randomBytes(16 * 1024 + (int) seed * 37, seed);
                    try (TestClient client = running.connect()) {
                        return crc(payload) == crc(client.echo(payload));
                    }
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get(), "a client's echo did not match its checksum");
            }
        }
        running.stats().ifPresent(stats -> assertEquals(clients, stats.accepted()));
    }

    @Test
    void finishesEchoingAfterTheClientHalfCloses() throws Exception {
        assumeLacksNothing(Feature.HALF_CLOSE);
        byte[] payload = TestClient.randomBytes(200_000, 7);
        try (TestClient client = start().connect()) {
            CompletableFuture<Void> sent = client.sendInBackground(payload).thenRun(() -> {
                try {
                    client.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] echoed = client.readToEnd(); // ends only when the server closes after the last byte
            sent.join();
            assertArrayEquals(payload, echoed);
        }
        server.stats().ifPresent(stats ->
                await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().orElseThrow().active() == 0));
    }

    @Test
    void aPeerResetMidStreamLeavesTheOthersServed() throws Exception {
        Running running = start();
        try (TestClient survivor = running.connect()) {
            TestClient victim = running.connect();
            victim.send(TestClient.randomBytes(100_000, 3)); // echo still in flight when the reset lands
            victim.reset();

            running.stats().ifPresent(stats ->
                    await().atMost(Duration.ofSeconds(5)).until(() -> running.stats().orElseThrow().active() == 1));
            byte[] ping = "still there?".getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(ping, survivor.echo(ping));
            running.stats().ifPresent(stats -> assertEquals(0, stats.errors(), "a reset is an ordinary end, not an error"));
        }
    }

    @Test
    void stopsReadingFromAPeerThatDoesNotReadItsEchoAndLosesNothing() throws Exception {
        int bufferCap = 4096;
        // Larger than every kernel buffer between the two ends, so the sender must end up blocked.
        byte[] payload = TestClient.randomBytes(64 << 20, 11);
        Running running = start(Limits.DEFAULT.withBufferSize(bufferCap));
        try (TestClient client = running.connect()) {
            AtomicLong sentBytes = new AtomicLong();
            CompletableFuture<Void> sent = sendInChunks(client, payload, sentBytes);
            if (running.stats().isPresent()) {
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                        .until(new Stalled(() -> running.stats().orElseThrow().bytesIn()));
                Stats stalled = running.stats().orElseThrow();
                assertFalse(sent.isDone(), "the client could send everything: the server kept reading");
                assertTrue(stalled.bytesIn() - stalled.bytesOut() <= bufferCap,
                        "server holds " + (stalled.bytesIn() - stalled.bytesOut()) + " unechoed bytes, more than one buffer");
            } else {
                // No counters (a seed server): the client sees the same from its side, its sends stall. A
                // server that dropped what it could not send at once (the seeds' unchecked send) never stalls it.
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                        .until(new Stalled(sentBytes::get));
                assertFalse(sent.isDone(), "the client could send everything without reading: the server kept reading");
            }
            assertArrayEquals(payload, client.readExactly(payload.length)); // draining resumes the echo
            sent.join();
        }
    }

    @Test
    void refusesConnectionsBeyondItsCapacityAndServesAgainWhenOneLeaves() throws Exception {
        assumeLacksNothing(Feature.REFUSAL_BEYOND_CAPACITY);
        byte[] ping = {1, 2, 3};
        Running running = start(Limits.DEFAULT.withMaxConnections(2));
        List<TestClient> served = new ArrayList<>();
        try {
            for (int i = 0; i < running.capacity(); i++) {
                TestClient client = running.connect();
                served.add(client);
                assertArrayEquals(ping, client.echo(ping), "client " + (i + 1) + " of " + running.capacity());
            }
            try (TestClient beyond = running.connect()) {
                assertTrue(beyond.isRefused(), "the connection beyond the capacity is closed at once");
            }
            running.stats().ifPresent(stats -> {
                assertEquals(1, stats.rejected());
                assertEquals(running.capacity(), stats.active());
            });

            served.removeFirst().close();
            if (running.stats().isPresent()) {
                await().atMost(Duration.ofSeconds(5)).until(() -> running.stats().orElseThrow().active() == running.capacity() - 1);
                try (TestClient next = running.connect()) {
                    assertArrayEquals(ping, next.echo(ping));
                }
                assertEquals(running.capacity() + 1, running.stats().orElseThrow().accepted());
            } else {
                // Without counters we cannot see when the server noticed the first one go: retry, bounded.
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    try (TestClient next = running.connect()) {
                        return next.echoOrRefused(ping);
                    }
                });
            }
        } finally {
            for (TestClient client : served) {
                client.close();
            }
        }
    }

    /** Sends {@code payload} 64 KiB at a time on a virtual thread, counting what the socket has taken. */
    private static CompletableFuture<Void> sendInChunks(TestClient client, byte[] payload, AtomicLong sentBytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofVirtual().name("test-chunk-sender").start(() -> {
            try {
                for (int from = 0; from < payload.length; from += 64 * 1024) {
                    int to = Math.min(payload.length, from + 64 * 1024);
                    client.send(Arrays.copyOfRange(payload, from, to));
                    sentBytes.addAndGet(to - from);
                }
                done.complete(null);
            } catch (IOException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    private void assumeLacksNothing(Feature feature) {
        target.lacks(feature).ifPresent(reason -> assumeTrue(false, target + " cannot: " + reason));
    }

    /** True once a counter has not moved between two polls. */
    private static final class Stalled implements Callable<Boolean> {
        private final LongSupplier counter;
        private long previous = -1;

        Stalled(LongSupplier counter) {
            this.counter = counter;
        }

        @Override
        public Boolean call() {
            long now = counter.getAsLong();
            boolean stalled = now > 0 && now == previous;
            previous = now;
            return stalled;
        }
    }

    private static long crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }
}
