package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.fault.EchoFailures;
import dev.loomecho.fault.Faults;
import dev.loomecho.udp.UdpConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every engine must do, written once and run against each of them. A new engine is done when it
 * passes this class unchanged.
 */
@ParameterizedClass(name = "engine {0}")
@MethodSource("engines")
@Timeout(60)
class EngineConformanceTest {

    /**
     * Every engine, or those named in {@code loomecho.test.engines}: the build runs this class a second
     * time, with {@code --enable-preview}, for the engines whose supervisor then changes.
     */
    static List<Engine> engines() {
        String only = System.getProperty("loomecho.test.engines", "");
        return only.isBlank() ? List.of(Engine.values())
                : Arrays.stream(only.split(",")).map(String::trim).map(Engine::valueOf).toList();
    }

    @Parameter
    Engine engine;

    private ServerConfig.Builder server() {
        return EchoServer.builder().port(0).engine(engine).drainTimeout(Duration.ofMillis(500));
    }

    @Test
    void echoesOneMessage() throws IOException {
        try (EchoServer server = server().start(); TestClient client = TestClient.connect(server)) {
            byte[] hello = "hello, loom".getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(hello, client.echo(hello));
        }
    }

    @Test
    void echoesEveryByteValueIncludingNul() throws IOException {
        byte[] all = new byte[1024];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i; // 0x00 included four times: the seeds' strlen would stop at the first
        }
        try (EchoServer server = server().start(); TestClient client = TestClient.connect(server)) {
            assertArrayEquals(all, client.echo(all));
        }
    }

    @Test
    void echoesOneMebibyteOfRandomBytesExactly() throws IOException {
        byte[] payload = TestClient.randomBytes(1 << 20, 42);
        try (EchoServer server = server().start(); TestClient client = TestClient.connect(server)) {
            assertArrayEquals(payload, client.echo(payload));
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().bytesOut() == payload.length);
            assertEquals(payload.length, server.stats().bytesIn());
        }
    }

    @Test
    void echoesAThousandPipelinedMessagesInOrder() throws IOException {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        List<byte[]> messages = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            byte[] message = ("message " + i + " " + "x".repeat(i % 97) + "\n").getBytes(StandardCharsets.US_ASCII);
            messages.add(message);
            expected.writeBytes(message);
        }
        try (EchoServer server = server().start(); TestClient client = TestClient.connect(server)) {
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
    void servesTwoHundredConcurrentClientsEachVerifyingItsChecksum() throws Exception {
        int clients = 200;
        try (EchoServer server = server().start();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                long seed = i;
                results.add(pool.submit(() -> {
                    byte[] payload = TestClient.randomBytes(16 * 1024 + (int) seed * 37, seed);
                    try (TestClient client = TestClient.connect(server)) {
                        return crc(payload) == crc(client.echo(payload));
                    }
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get(), "a client's echo did not match its checksum");
            }
            assertEquals(clients, server.stats().accepted());
        }
    }

    @Test
    void finishesEchoingAfterTheClientHalfCloses() throws IOException {
        byte[] payload = TestClient.randomBytes(200_000, 7);
        try (EchoServer server = server().start(); TestClient client = TestClient.connect(server)) {
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
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().active() == 0);
        }
    }

    @Test
    void aPeerResetMidStreamLeavesTheOthersServed() throws IOException {
        try (EchoServer server = server().start(); TestClient survivor = TestClient.connect(server)) {
            TestClient victim = TestClient.connect(server);
            victim.send(TestClient.randomBytes(100_000, 3)); // echo still in flight when the reset lands
            victim.reset();

            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().active() == 1);
            byte[] ping = "still there?".getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(ping, survivor.echo(ping));
            assertEquals(0, server.stats().errors(), "a reset is an ordinary end, not an error");
        }
    }

    @Test
    void stopsReadingFromAPeerThatDoesNotReadItsEchoAndLosesNothing() throws IOException {
        int bufferCap = 4096;
        // Larger than every kernel buffer between the two ends, so the sender must end up blocked.
        byte[] payload = TestClient.randomBytes(64 << 20, 11);
        try (EchoServer server = server().bufferSize(bufferCap).start(); TestClient client = TestClient.connect(server)) {
            CompletableFuture<Void> sent = client.sendInBackground(payload);

            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                    .until(new Stalled(() -> server.stats().bytesIn()));
            Stats stalled = server.stats();
            assertFalse(sent.isDone(), "the client could send everything: the server kept reading");
            assertTrue(stalled.bytesIn() - stalled.bytesOut() <= bufferCap,
                    "server holds " + (stalled.bytesIn() - stalled.bytesOut()) + " unechoed bytes, more than one buffer");

            assertArrayEquals(payload, client.readExactly(payload.length)); // draining resumes the echo
            sent.join();
        }
    }

    @Test
    void refusesConnectionsBeyondTheLimitAndServesAgainWhenOneLeaves() throws IOException {
        byte[] ping = {1, 2, 3};
        try (EchoServer server = server().maxConnections(2).start();
             TestClient first = TestClient.connect(server);
             TestClient second = TestClient.connect(server)) {
            assertArrayEquals(ping, first.echo(ping));
            assertArrayEquals(ping, second.echo(ping)); // both admitted and served

            try (TestClient third = TestClient.connect(server)) {
                assertEquals(-1, third.read(), "the connection beyond the limit is closed at once");
            }
            assertEquals(1, server.stats().rejected());
            assertEquals(2, server.stats().active());

            first.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().active() == 1);
            try (TestClient fourth = TestClient.connect(server)) {
                assertArrayEquals(ping, fourth.echo(ping));
            }
            assertEquals(3, server.stats().accepted());
        }
    }

    @Test
    void closesAConnectionThatStaysIdle() throws IOException {
        try (EchoServer server = server().idleTimeout(Duration.ofMillis(300)).start();
             TestClient idle = TestClient.connect(server)) {
            long started = System.nanoTime();
            assertEquals(-1, idle.read(), "the server closes the idle connection");
            long waitedMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
            assertTrue(waitedMillis >= 250, "closed after " + waitedMillis + " ms, before the 300 ms timeout");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().idleClosed() == 1);
        }
    }

    @Test
    void closeReleasesEveryThreadAndThePort() throws IOException {
        EchoServer server = server().start();
        int port = server.port();
        TestClient lingering = TestClient.connect(server);
        assertArrayEquals(new byte[] {9}, lingering.echo(new byte[] {9}));
        assertTrue(ThreadDumps.countThreadsNamed("loom-echo-") > 0, "the dump must see the running server");

        server.close(); // the client never leaves: the drain timeout passes and it is closed by force

        assertEquals(-1, lingering.read());
        lingering.close();
        assertEquals(0, server.stats().active());
        assertEquals(List.of(), ThreadDumps.threadsNamed("loom-echo-"), "threads left behind after close()");
        try (EchoServer again = server().port(port).start(); TestClient client = TestClient.connect(again)) {
            assertEquals(port, again.port());
            assertArrayEquals(new byte[] {7}, client.echo(new byte[] {7}));
        }
    }

    @Test
    void closeIsNotHeldUpByAConnectionThatArrivesWhileItRuns() throws Exception {
        // Clients keep connecting while close() runs. A socket the engine accepts just as the shutdown
        // begins must be turned away; served, it would hold close() until its idle timeout.
        long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        for (int run = 0; run < 40 && System.nanoTime() < deadline; run++) {
            EchoServer server = server().drainTimeout(Duration.ZERO).idleTimeout(Duration.ofSeconds(3)).start();
            try (Connectors connectors = new Connectors(server.address(), 4)) {
                // Close while connects stream in; polled tightly, so that many runs fit in the time bound.
                await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(5))
                        .until(() -> server.stats().accepted() >= 20);
                long started = System.nanoTime();
                server.close();
                long tookMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
                assertTrue(tookMillis < 1_500, "run " + run + ": close() took " + tookMillis + " ms with no drain");
                assertEquals(0, server.stats().active(), "run " + run);
            }
        }
    }

    @Test
    void closeReleasesThePortAndItsDescriptorEveryTime() throws Exception {
        long descriptorsBefore = 0;
        for (int run = 0; run < 20; run++) {
            EchoServer server = server().start();
            try (TestClient client = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {1}, client.echo(new byte[] {1}));
            }
            server.close();
            assertThrows(ConnectException.class, () -> new TestClient(server.address()).close(),
                    "run " + run + ": the port still accepts connections after close()");
            if (run == 0) {
                descriptorsBefore = openFileDescriptors(); // after the first run has loaded every class
            }
        }
        long leaked = openFileDescriptors() - descriptorsBefore;
        assertTrue(leaked < 10, leaked + " file descriptors more after 19 more servers started and closed");
    }

    @Test
    void aFailedStartLeavesNoPortAndNoThreadBehind() throws Exception {
        int failedStarts = 0;
        for (int attempt = 0; attempt < 30 && failedStarts < 10; attempt++) {
            try (DatagramChannel taken = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                int port = ((InetSocketAddress) taken.getLocalAddress()).getPort();
                // TCP binds the port number, then UDP (same number by default) finds it taken: start() fails late.
                BindException e = assertThrows(BindException.class,
                        () -> server().port(port).udp(UdpConfig.DEFAULTS.withEnabled(true)).start());
                if (!e.getMessage().contains("for UDP")) {
                    continue; // a client socket of this JVM holds that TCP port: try another number
                }
                failedStarts++;
                assertThrows(ConnectException.class, () -> new TestClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).close(),
                        "the TCP port of a server that failed to start still accepts");
                assertEquals(List.of(), ThreadDumps.threadsNamed("loom-echo-"), "threads left by a failed start");
            }
        }
        assertEquals(10, failedStarts, "could not find free TCP port numbers to test with");
    }

    @Test
    void anInterruptedCloseStillClosesEverythingAndKeepsTheInterrupt() throws Exception {
        EchoServer server = server().drainTimeout(Duration.ofSeconds(30)).start();
        try (TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {5}, client.echo(new byte[] {5})); // an open connection: close() drains
            AtomicBoolean interruptKept = new AtomicBoolean();
            Thread closer = Thread.ofPlatform().name("test-closer").start(() -> {
                server.close();
                interruptKept.set(Thread.currentThread().isInterrupted());
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> closer.getState() == Thread.State.TIMED_WAITING);
            closer.interrupt(); // during the 30 s drain

            assertTrue(closer.join(Duration.ofSeconds(5)), "an interrupted close() did not return");
            assertTrue(interruptKept.get(), "close() swallowed the interrupt");
            assertEquals(List.of(), ThreadDumps.threadsNamed("loom-echo-"), "threads left behind by an interrupted close()");
            assertEquals(-1, client.read(), "the open connection is closed");
            assertThrows(ConnectException.class, () -> new TestClient(server.address()).close());
        }
    }

    @Test
    void countsAnUnexpectedServerSideFailureAsAnError() throws Exception {
        assumeTrue(engine.faultSupport() != Engine.FaultSupport.NONE, "needs faults to make the echo fail");
        // Any exception the echo does not expect must be counted (and logged). Here: a test hook makes the
        // faulty echo throw, as a bug would; any fault routes the echo there.
        Faults faulty = Faults.NONE.withSlicing(1, Duration.ZERO);
        try (EchoServer server = server().faults(faulty).start(); TestClient client = TestClient.connect(server);
             AutoCloseable failing = EchoFailures.failEchoesFrom(client.socket().getLocalSocketAddress())) {
            client.send(new byte[] {1});
            assertEquals(-1, client.read(), "the failed connection is closed");
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().active() == 0);
            assertEquals(1, server.stats().errors());
        }
    }

    @Test
    void closeDoesNotWaitOutAFaultDelay() throws IOException {
        assumeTrue(engine.faultSupport() != Engine.FaultSupport.NONE, "faults need an engine that supports them");
        Faults slow = Faults.NONE.withLatency(Duration.ofSeconds(20), Duration.ZERO);
        try (EchoServer server = server().drainTimeout(Duration.ZERO).faults(slow).start();
             TestClient client = TestClient.connect(server)) {
            client.send(new byte[] {1}); // the server now sleeps 20 s before it echoes
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().bytesIn() == 1);
            long started = System.nanoTime();
            server.close();
            long tookMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
            assertTrue(tookMillis < 1_500, "close() took " + tookMillis + " ms: it waited for the fault's delay");
        }
    }

    private static long openFileDescriptors() throws IOException {
        try (var descriptors = Files.list(Path.of("/proc/self/fd"))) {
            return descriptors.count();
        }
    }

    @Test
    void reportsABusyPortWithItsAddress() throws IOException {
        try (EchoServer first = server().start()) {
            BindException e = assertThrows(BindException.class, () -> server().port(first.port()).start());
            assertTrue(e.getMessage().contains("127.0.0.1:" + first.port()), e.getMessage());
        }
    }

    @Test
    void listensOnIpv6LoopbackWhenAsked() throws IOException {
        InetSocketAddress v6 = new InetSocketAddress("::1", 0);
        try (EchoServer server = server().bindAddress(v6.getAddress()).start();
             TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {4, 2}, client.echo(new byte[] {4, 2}));
        }
    }

    /** True once a counter has not moved between two polls. */
    private static final class Stalled implements java.util.concurrent.Callable<Boolean> {
        private final java.util.function.LongSupplier counter;
        private long previous = -1;

        Stalled(java.util.function.LongSupplier counter) {
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
