package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.fault.EchoFailures;
import dev.loomecho.fault.Faults;
import dev.loomecho.udp.UdpConfig;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every engine must do as an embedded server — its lifecycle, idle timeout, limits and faults —
 * written once and run against each of them. What a client sees on the wire is {@link WireConformanceTest},
 * which runs every engine too. A new engine is done when it passes both classes unchanged.
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
}
