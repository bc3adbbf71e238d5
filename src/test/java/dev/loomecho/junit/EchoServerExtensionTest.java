package dev.loomecho.junit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.loomecho.EchoServer;
import dev.loomecho.TestClient;
import dev.loomecho.ThreadDumps;
import dev.loomecho.fault.Faults;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

class EchoServerExtensionTest {

    @Nested
    @ExtendWith(EchoServerExtension.class)
    class WithExtendWith {
        @Test
        void injectsARunningServerOnAFreePort(EchoServer echo) throws IOException {
            assertTrue(echo.port() > 0);
            try (TestClient client = TestClient.connect(echo)) {
                assertArrayEquals(new byte[] {1, 2}, client.echo(new byte[] {1, 2}));
            }
        }
    }

    @Nested
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    class PerClassServer {
        @RegisterExtension
        static EchoServerExtension echo = EchoServerExtension.builder()
                .faults(Faults.NONE.withLatency(Duration.ofMillis(1), Duration.ZERO)).build();

        static EchoServer first;

        @Test
        @Order(1)
        void aTestMayChangeTheFaults(EchoServer server) {
            first = server;
            echo.faults(Faults.NONE.withStallAfter(0));
            assertEquals(Faults.NONE.withStallAfter(0), echo.server().faults());
        }

        @Test
        @Order(2)
        void theNextTestSharesTheServerWithItsConfiguredFaultsRestored(EchoServer server) throws IOException {
            assertSame(first, server, "one server for the class");
            assertEquals(Faults.NONE.withLatency(Duration.ofMillis(1), Duration.ZERO), server.faults());
            try (TestClient client = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {3}, client.echo(new byte[] {3}));
            }
        }
    }

    @Nested
    class PerMethodServer {
        @RegisterExtension
        EchoServerExtension echo = EchoServerExtension.builder().build();

        static final List<EchoServer> seen = new ArrayList<>();

        @Test
        void eachTestGetsAFreshServer() throws IOException {
            check();
        }

        @Test
        void andSoDoesThisOne() throws IOException {
            check();
        }

        private void check() throws IOException {
            assertEquals(0, echo.stats().accepted(), "nothing from another test");
            try (TestClient client = new TestClient(echo.address())) {
                assertArrayEquals(new byte[] {4}, client.echo(new byte[] {4}));
            }
            synchronized (seen) {
                seen.forEach(other -> assertNotEquals(other, echo.server()));
                seen.add(echo.server());
            }
        }
    }

    @Nested
    class ReadPacingAndToxicity {
        @RegisterExtension
        static EchoServerExtension echo = EchoServerExtension.builder()
                .faults(Faults.NONE.withReadBandwidth(1_000_000).withLatency(Duration.ofSeconds(5), Duration.ZERO)
                        .withToxicity(0))
                .seed(5).build();

        @Test
        void theExtensionTakesTheNewFaultsAndASeed(EchoServer server) throws IOException {
            assertEquals(1_000_000, server.faults().readBandwidth());
            assertEquals(0.0, server.faults().toxicity());
            assertEquals(OptionalLong.of(5), server.config().seed());
            try (TestClient client = TestClient.connect(server)) {
                long started = System.nanoTime();
                assertArrayEquals(new byte[] {5}, client.echo(new byte[] {5}));
                assertTrue(System.nanoTime() - started < 4_000_000_000L, "toxicity 0: no connection is delayed");
            }
        }
    }

    @Test
    void closesTheServerEvenWhenTheTestFails() throws IOException {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(FailingScenario.class)).build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, listener);

        assertEquals(1, listener.getSummary().getTestsFailedCount(), "the scenario is meant to fail");
        assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-"), "the failed test's server left threads");
        try (ServerSocket rebind = new ServerSocket(FailingScenario.port, 50, InetAddress.getLoopbackAddress())) {
            assertEquals(FailingScenario.port, rebind.getLocalPort(), "the failed test's port is free again");
        }
    }

    /** Fails on purpose; excluded from the build's run by its tag, launched by the test above. */
    @Tag("scenario")
    static class FailingScenario {
        static int port;

        @RegisterExtension
        static EchoServerExtension echo = EchoServerExtension.builder().build();

        @Test
        void fails() {
            port = echo.port();
            throw new AssertionError("deliberate failure");
        }
    }
}
