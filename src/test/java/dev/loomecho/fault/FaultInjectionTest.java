package dev.loomecho.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.TestClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Each fault, on every engine that supports fault injection (all but the single-threaded selector). */
@ParameterizedClass(name = "engine {0}")
@EnumSource(value = Engine.class, names = {"VIRTUAL", "FUTURE", "COMPLETION"})
@Timeout(60)
class FaultInjectionTest {

    @Parameter
    Engine engine;

    private EchoServer start(Faults faults) throws IOException {
        return EchoServer.builder().port(0).engine(engine).faults(faults).drainTimeout(Duration.ZERO).start();
    }

    @Test
    void latencyDelaysEachEcho() throws IOException {
        try (EchoServer server = start(Faults.NONE.withLatency(Duration.ofMillis(300), Duration.ZERO));
             TestClient client = TestClient.connect(server)) {
            long started = System.nanoTime();
            assertArrayEquals(new byte[] {1, 2}, client.echo(new byte[] {1, 2}));
            assertTrue(elapsedMillis(started) >= 290, "echo came back after " + elapsedMillis(started) + " ms");
        }
    }

    @Test
    void bandwidthPacesTheEcho() throws IOException {
        byte[] payload = TestClient.randomBytes(32 * 1024, 1);
        try (EchoServer server = start(Faults.NONE.withBandwidth(64 * 1024).withSlicing(4096, Duration.ZERO));
             TestClient client = TestClient.connect(server)) {
            long started = System.nanoTime();
            assertArrayEquals(payload, client.echo(payload));
            assertTrue(elapsedMillis(started) >= 400, "32 KiB at 64 KiB/s took only " + elapsedMillis(started) + " ms");
        }
    }

    @Test
    void slicingDeliversTheEchoInSmallChunks() throws Exception {
        byte[] payload = TestClient.randomBytes(100, 2);
        try (EchoServer server = start(Faults.NONE.withSlicing(10, Duration.ofMillis(30)));
             TestClient client = TestClient.connect(server)) {
            // What the client's reads return depends on when it is scheduled (two slices may wait in its socket
            // buffer together), so watch the server's side: bytes out only ever move in whole slices, and the
            // ten slices are spread over at least nine delays.
            Set<Long> seen = ConcurrentHashMap.newKeySet();
            AtomicBoolean done = new AtomicBoolean();
            Thread watcher = Thread.ofPlatform().name("test-watch-bytes-out").start(() -> {
                while (!done.get()) {
                    seen.add(server.stats().bytesOut());
                    Thread.onSpinWait();
                }
            });
            long started = System.nanoTime();
            client.send(payload);
            byte[] echoed = client.readExactly(payload.length);
            long tookMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
            done.set(true);
            watcher.join();

            assertArrayEquals(payload, echoed);
            assertTrue(seen.stream().allMatch(n -> n % 10 == 0), "bytes out moved by other than a slice: " + seen);
            assertTrue(tookMillis >= 9 * 30, "the echo took " + tookMillis + " ms: it was not sliced");
        }
    }

    @Test
    void closeAfterEndsTheConnectionWithAFinAtTheThreshold() throws IOException {
        try (EchoServer server = start(Faults.NONE.withCloseAfter(100)); TestClient client = TestClient.connect(server)) {
            byte[] payload = TestClient.randomBytes(300, 3);
            client.send(payload);
            byte[] echoed = client.readToEnd();
            assertArrayEquals(Arrays.copyOf(payload, 100), echoed, "exactly 100 bytes, then EOF");
        }
    }

    @Test
    void resetAfterEndsTheConnectionWithAReset() throws IOException {
        if (engine.faultSupport() != Engine.FaultSupport.ALL) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> start(Faults.NONE.withResetAfter(100)));
            assertTrue(e.getMessage().contains("SO_LINGER"), e.getMessage());
            return; // asynchronous channels have no SO_LINGER: refused up front, not silently downgraded
        }
        try (EchoServer server = start(Faults.NONE.withResetAfter(100)); TestClient client = TestClient.connect(server)) {
            byte[] payload = TestClient.randomBytes(300, 4);
            client.send(payload);
            assertArrayEquals(Arrays.copyOf(payload, 100), client.readExactly(100));
            SocketException reset = assertThrows(SocketException.class, client::readToEnd);
            assertTrue(reset.getMessage().contains("reset"), reset.getMessage());
        }
    }

    @Test
    void stallAfterKeepsTheConnectionOpenButSilent() throws IOException {
        try (EchoServer server = start(Faults.NONE.withStallAfter(100)); TestClient client = TestClient.connect(server)) {
            byte[] payload = TestClient.randomBytes(300, 5);
            client.send(payload);
            assertArrayEquals(Arrays.copyOf(payload, 100), client.readExactly(100));
            client.socket().setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, client::read, "no more bytes, and no EOF either");
            assertEquals(1, server.stats().active(), "the stalled connection is still open");
        }
    }

    @Test
    void faultsCanBeChangedOnARunningServer() throws IOException {
        try (EchoServer server = start(Faults.NONE); TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {1}, client.echo(new byte[] {1}));
            server.faults(Faults.NONE.withCloseAfter(2)); // counts this connection's bytes: 1 echoed so far
            assertEquals(Faults.NONE.withCloseAfter(2), server.faults());
            client.send(new byte[] {2, 3, 4});
            assertArrayEquals(new byte[] {2}, client.readToEnd());
            server.faults(Faults.NONE);
            try (TestClient again = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {5, 6, 7}, again.echo(new byte[] {5, 6, 7}));
            }
        }
    }

    @Test
    void aFaultOnOneConnectionLeavesTheOthersEchoing() throws IOException {
        try (EchoServer server = start(Faults.NONE.withStallAfter(1_000)); TestClient stalled = TestClient.connect(server)) {
            stalled.send(TestClient.randomBytes(2_000, 6));
            stalled.readExactly(1_000);
            try (TestClient other = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {9}, other.echo(new byte[] {9}));
            }
            await().atMost(Duration.ofSeconds(2)).until(() -> server.stats().active() == 1);
        }
    }

    @Test
    void readBandwidthPacesTheServersReadsToASteadyTrickle() throws IOException {
        int rate = 10_000;
        byte[] payload = TestClient.randomBytes(20_000, 8);
        try (EchoServer server = start(Faults.NONE.withReadBandwidth(rate)); TestClient client = TestClient.connect(server)) {
            long started = System.nanoTime();
            CompletableFuture<Void> sent = client.sendInBackground(payload); // the kernel's buffers take it all at once
            InputStream in = client.socket().getInputStream();
            byte[] echoed = new byte[payload.length];
            long lastArrival = started;
            long longestGap = 0;
            for (int total = 0; total < payload.length; ) {
                int n = in.read(echoed, total, payload.length - total);
                assertTrue(n > 0, "closed after " + total + " bytes");
                total += n;
                long now = System.nanoTime();
                longestGap = Math.max(longestGap, now - lastArrival);
                lastArrival = now;
                // Each read waits n / rate after the one before, and is at most a tenth of a second's worth.
                long allowed = rate / 10 + rate * (now - started) / 1_000_000_000L;
                assertTrue(server.stats().bytesIn() <= allowed,
                        "read " + server.stats().bytesIn() + " bytes by " + elapsedMillis(started) + " ms at " + rate + " B/s");
            }
            sent.join();
            assertArrayEquals(payload, echoed);
            assertTrue(elapsedMillis(started) >= 1_700, "20 kB read at 10 kB/s in " + elapsedMillis(started) + " ms");
            assertTrue(longestGap < 400_000_000L, "reads come in bursts: a pause of " + longestGap / 1_000_000 + " ms");
        }
    }

    @Test
    void readPacingCapsEvenTheFirstReadAndIsNotMistakenForIdleness() throws IOException {
        int rate = 100;
        byte[] payload = TestClient.randomBytes(200, 9);
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).faults(Faults.NONE.withReadBandwidth(rate))
                .idleTimeout(Duration.ofSeconds(1)).drainTimeout(Duration.ZERO).start();
             TestClient client = TestClient.connect(server)) {
            long started = System.nanoTime();
            client.send(payload); // in one piece: an uncapped first read would take it all, then pause 2 s
            InputStream in = client.socket().getInputStream();
            byte[] echoed = new byte[payload.length];
            for (int total = 0; total < payload.length; ) {
                int n = in.read(echoed, total, payload.length - total);
                assertTrue(n > 0, "closed after " + total + " bytes (idle closes: " + server.stats().idleClosed() + ")");
                total += n;
                long allowed = rate / 10 + rate * (System.nanoTime() - started) / 1_000_000_000L;
                assertTrue(server.stats().bytesIn() <= allowed,
                        "read " + server.stats().bytesIn() + " bytes by " + elapsedMillis(started) + " ms at " + rate + " B/s");
            }
            assertArrayEquals(payload, echoed);
            assertTrue(elapsedMillis(started) >= 1_700, "200 B read at 100 B/s in " + elapsedMillis(started) + " ms");
            assertEquals(0, server.stats().idleClosed(), "2 s of pacing at a 1 s idle timeout: pacing is progress");
            assertArrayEquals(new byte[] {1}, client.echo(new byte[] {1}), "and the connection goes on");
        }
    }

    @Test
    void readPacingSetOnABusyConnectionTricklesWithoutALongPause() throws Exception {
        int rate = 1_000;
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).idleTimeout(Duration.ofSeconds(1))
                .drainTimeout(Duration.ZERO).start();
             TestClient client = TestClient.connect(server)) {
            byte[] bulk = TestClient.randomBytes(1 << 20, 10);
            assertArrayEquals(bulk, client.echo(bulk)); // the read buffer has grown to 64 KiB, and a read waits on it
            server.faults(Faults.NONE.withReadBandwidth(rate));
            long before = server.stats().bytesIn();
            client.sendInBackground(TestClient.randomBytes(256 * 1024, 11));
            CompletableFuture.runAsync(() -> drain(client)); // the echo must not fill the client's receive buffer
            // The read already waiting when the fault was set is not capped and may take a whole buffer;
            // from the next read on, the server reads at the rate: no pause of n / rate (65 s for 64 KiB).
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().bytesIn() > before);
            long afterFirstRead = server.stats().bytesIn();
            await().atMost(Duration.ofSeconds(3)).until(() -> server.stats().bytesIn() >= afterFirstRead + rate / 2);
            assertEquals(0, server.stats().idleClosed());
            assertEquals(1, server.stats().active());
        }
    }

    @Test
    void latencyLongerThanTheIdleTimeoutIsNotIdleness() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).idleTimeout(Duration.ofMillis(500))
                .faults(Faults.NONE.withLatency(Duration.ofMillis(1_500), Duration.ZERO)).drainTimeout(Duration.ZERO).start();
             TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {1, 2}, client.echo(new byte[] {1, 2}), "reaped during the latency");
            assertEquals(0, server.stats().idleClosed());
        }
    }

    @Test
    void aStalledConnectionIsStillReapedByTheIdleTimeout() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).idleTimeout(Duration.ofMillis(500))
                .faults(Faults.NONE.withStallAfter(1)).drainTimeout(Duration.ZERO).start();
             TestClient client = TestClient.connect(server)) {
            client.send(new byte[] {1, 2});
            assertEquals(1, client.read());
            assertEquals(-1, client.read(), "a stall is no progress: the idle timeout closes it");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().idleClosed() == 1);
        }
    }

    private static void drain(TestClient client) {
        try {
            client.socket().getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException closed) {
            // the test is over
        }
    }

    @Test
    void toxicityAppliesTheFaultsToAShareOfConnectionsTheSameOnesForTheSameSeed() throws IOException {
        Faults closeAtOnce = Faults.NONE.withCloseAfter(0).withToxicity(0.5);
        List<Boolean> first = toxicByConnection(closeAtOnce, 42);
        long toxic = first.stream().filter(t -> t).count();
        assertTrue(toxic >= 3 && toxic <= 17, toxic + " of 20 connections were toxic at toxicity 0.5");
        assertEquals(first, toxicByConnection(closeAtOnce, 42), "the same seed chooses the same connections");
        assertEquals(List.of(false, false, false), toxicByConnection(Faults.NONE.withCloseAfter(0).withToxicity(0), 1).subList(0, 3));
        assertEquals(List.of(true, true, true), toxicByConnection(Faults.NONE.withCloseAfter(0), 1).subList(0, 3));
    }

    @Test
    void faultsChangedAtRuntimeApplyToTheConnectionsChosenAsToxic() throws IOException {
        List<Boolean> expected = toxicByConnection(Faults.NONE.withCloseAfter(0).withToxicity(0.5), 42);
        List<TestClient> clients = new ArrayList<>();
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).seed(42).drainTimeout(Duration.ZERO)
                .faults(Faults.NONE.withToxicity(0.5)).start()) {
            for (int i = 0; i < expected.size(); i++) {
                TestClient client = TestClient.connect(server);
                clients.add(client);
                assertArrayEquals(new byte[] {1}, client.echo(new byte[] {1}), "nothing to inject yet");
            }
            server.faults(Faults.NONE.withCloseAfter(1)); // toxicity 1 from now on: new connections are all toxic
            List<Boolean> closed = new ArrayList<>();
            for (TestClient client : clients) {
                client.send(new byte[] {2});
                closed.add(client.read() < 0);
            }
            assertEquals(expected, closed, "the toxic ones were closed, the others still echo");
            try (TestClient late = TestClient.connect(server)) {
                late.send(new byte[] {3, 4});
                assertArrayEquals(new byte[] {3}, late.readToEnd(), "a new connection gets the new faults");
            }
        } finally {
            for (TestClient client : clients) {
                client.close();
            }
        }
    }

    /** Which of 20 connections, opened one after another, the server chose as toxic (close-after 0 closes them). */
    private List<Boolean> toxicByConnection(Faults faults, long seed) throws IOException {
        List<Boolean> toxic = new ArrayList<>();
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).faults(faults).seed(seed)
                .drainTimeout(Duration.ZERO).start()) {
            for (int i = 0; i < 20; i++) {
                try (TestClient client = TestClient.connect(server)) {
                    client.send(new byte[] {7});
                    int reply = client.read(); // admitted before the next connect: the choices come in order
                    assertTrue(reply == 7 || reply == -1, "reply " + reply);
                    toxic.add(reply == -1);
                }
            }
        }
        return toxic;
    }

    private static long elapsedMillis(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }
}
