package dev.loomecho.junit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.loomecho.EchoServer;
import dev.loomecho.TestClient;
import dev.loomecho.ThreadDumps;
import dev.loomecho.fault.Faults;
import dev.loomecho.tls.ServedCertificate;
import dev.loomecho.tls.ServerTls;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.opentest4j.TestAbortedException;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

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
    class WithTls {
        @RegisterExtension
        static EchoServerExtension echo = EchoServerExtension.builder().tls().build();

        @Test
        void injectsWhatATlsClientNeedsAndTheServerEchoesOverTls(SSLContext trust, X509TrustManager trustManager,
                                                                  X509Certificate ca, ServerTls tls) throws Exception {
            assertEquals(echo.tls().caCertificate(), ca);
            assertSame(echo.tls(), tls);
            trustManager.checkServerTrusted(new X509Certificate[] {tls.servedCertificate(ServedCertificate.VALID)}, "ECDHE_ECDSA");
            SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket("localhost", echo.tlsPort());
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            try (TestClient client = new TestClient(socket)) {
                assertArrayEquals(new byte[] {0, 9, 0}, client.echo(new byte[] {0, 9, 0}));
            }
            assertEquals(1, echo.stats().tls().accepted());
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

    @Test
    void aTlsParameterWithoutATlsListenerFailsTheTestSayingHowToGetOne() {
        TestExecutionSummary summary = launch(TlsWithoutTlsScenario.class, Map.of());

        assertEquals(1, summary.getTestsFailedCount(), () -> failures(summary));
        String reason = String.valueOf(summary.getFailures().get(0).getException().getMessage());
        assertTrue(reason.contains("EchoServerExtension.builder().tls().build()"), reason);
        assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-"));
    }

    @Test
    void aNestedClassSharesTheServerOfItsEnclosingClassWhichIsClosedAfterwards() throws IOException {
        TestExecutionSummary summary = launch(NestedScenario.class, Map.of());

        assertEquals(2, summary.getTestsSucceededCount(), () -> failures(summary));
        assertSame(NestedScenario.outer, NestedScenario.nested, "the @Nested class got a server of its own");
        assertThrows(ConnectException.class, () -> new TestClient(NestedScenario.outer.address()).close(),
                "the enclosing class's server still accepts after the run");
        assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-"), "the scenario's servers left threads");
    }

    @Test
    void aTestEndingNeverResetsTheFaultsOfASiblingStillRunningConcurrently() {
        TestExecutionSummary summary = launch(ConcurrentScenario.class, Map.of(
                "junit.jupiter.execution.parallel.enabled", "true",
                "junit.jupiter.execution.parallel.config.strategy", "fixed",
                "junit.jupiter.execution.parallel.config.fixed.parallelism", "2"));

        assertEquals(2, summary.getTestsSucceededCount(), () -> failures(summary));
        assertEquals(ConcurrentScenario.STALL, ConcurrentScenario.faultsAfterTheSiblingEnded,
                "the sibling's end reset the faults of a test still running");
        assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-"));
    }

    @Test
    void aTestWhoseSetupNeverReachedTheServerDoesNotUpsetTheNextTestsFaults() {
        TestExecutionSummary summary = launch(SkippedSetupScenario.class, Map.of());

        assertEquals(1, summary.getTestsAbortedCount(), () -> failures(summary));
        assertEquals(2, summary.getTestsSucceededCount(), () -> failures(summary));
        assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-"));
    }

    @Test
    void aServerSharedByTwoClassesRunningConcurrentlyOutlivesTheFirstToEnd() {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(SharedServerScenario.First.class), selectClass(SharedServerScenario.Second.class))
                .configurationParameters(Map.of(
                        "junit.jupiter.execution.parallel.enabled", "true",
                        "junit.jupiter.execution.parallel.mode.classes.default", "concurrent",
                        "junit.jupiter.execution.parallel.config.strategy", "fixed",
                        "junit.jupiter.execution.parallel.config.fixed.parallelism", "2"))
                .build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, listener);
        TestExecutionSummary summary = listener.getSummary();

        assertEquals(2, summary.getTestsSucceededCount(), () -> failures(summary));
        assertThrows(ConnectException.class, () -> new TestClient(SharedServerScenario.address).close(),
                "the shared server still accepts after both classes ended");
        assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-"), "the shared server left threads");
    }

    private static TestExecutionSummary launch(Class<?> scenario, Map<String, String> configuration) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(scenario)).configurationParameters(configuration).build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, listener);
        return listener.getSummary();
    }

    private static String failures(TestExecutionSummary summary) {
        StringBuilder text = new StringBuilder();
        summary.getFailures().forEach(f -> text.append(f.getTestIdentifier().getDisplayName()).append(": ")
                .append(f.getException()).append('\n'));
        return text.toString();
    }

    /** Asks for an SSLContext from a server without TLS; launched by the test above. */
    @Tag("scenario")
    @ExtendWith(EchoServerExtension.class)
    static class TlsWithoutTlsScenario {
        @Test
        void wantsATlsClientContext(SSLContext trust) {
            assertTrue(trust != null);
        }
    }

    /** A static extension and a @Nested class; launched by the test above. */
    @Tag("scenario")
    static class NestedScenario {
        static EchoServer outer;
        static EchoServer nested;

        @RegisterExtension
        static EchoServerExtension echo = EchoServerExtension.builder().build();

        @Test
        void outerTest() {
            outer = echo.server();
        }

        @Nested
        class Inner {
            @Test
            void nestedTest() {
                nested = echo.server();
            }
        }
    }

    /** Two tests of one shared server, run at the same time; launched by the test above. */
    @Tag("scenario")
    @Execution(ExecutionMode.CONCURRENT)
    static class ConcurrentScenario {
        static final Faults STALL = Faults.NONE.withStallAfter(0);
        static final CountDownLatch faultsSet = new CountDownLatch(1);
        static final CountDownLatch siblingEnded = new CountDownLatch(1);
        static volatile Faults faultsAfterTheSiblingEnded;

        // After-callbacks run in reverse order of registration: this one runs after the echo extension's.
        @RegisterExtension
        @Order(1)
        static AfterEachCallback siblingEnd = context -> {
            if (context.getRequiredTestMethod().getName().equals("sibling")) {
                siblingEnded.countDown();
            }
        };

        @RegisterExtension
        @Order(2)
        static EchoServerExtension echo = EchoServerExtension.builder().build();

        @Test
        void changesTheFaults() throws InterruptedException {
            echo.faults(STALL);
            faultsSet.countDown();
            assertTrue(siblingEnded.await(10, TimeUnit.SECONDS), "the sibling did not run alongside");
            faultsAfterTheSiblingEnded = echo.server().faults();
        }

        @Test
        void sibling() throws InterruptedException {
            assertTrue(faultsSet.await(10, TimeUnit.SECONDS), "the other test did not run alongside");
        }
    }

    /**
     * An extension registered before the echo extension aborts the first test in its beforeEach, so the
     * echo extension's beforeEach never runs for it — JUnit still calls every afterEach. The next test
     * slows the server down; the last must get the configured faults back.
     */
    @Tag("scenario")
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class SkippedSetupScenario {
        @RegisterExtension
        @Order(1)
        static BeforeEachCallback abortTheFirstTest = context -> {
            if (context.getRequiredTestMethod().getName().equals("abortedBeforeTheServerSetUp")) {
                throw new TestAbortedException("aborted before the echo extension's beforeEach");
            }
        };

        @RegisterExtension
        @Order(2)
        static EchoServerExtension echo = EchoServerExtension.builder().build();

        @Test
        @Order(1)
        void abortedBeforeTheServerSetUp() {
        }

        @Test
        @Order(2)
        void slowsTheServerDown() {
            echo.faults(Faults.NONE.withLatency(Duration.ofSeconds(5), Duration.ZERO));
        }

        @Test
        @Order(3)
        void getsTheConfiguredFaultsBack() {
            assertEquals(Faults.NONE, echo.server().faults(), "the previous test's faults leaked into this one");
        }
    }

    /**
     * Two test classes sharing the static extension of their base class, run at the same time: the
     * first class starts the server and ends while the second still uses it. Latches make the order
     * certain: First starts the server, Second joins, First ends, then Second echoes.
     */
    static final class SharedServerScenario {
        static final CountDownLatch firstStarted = new CountDownLatch(1);
        static final CountDownLatch secondStarted = new CountDownLatch(1);
        static final CountDownLatch firstEnded = new CountDownLatch(1);
        static volatile InetSocketAddress address;

        private SharedServerScenario() {
        }

        /** Registered before the echo extension: its beforeAll runs before the echo's, its afterAll after. */
        static final class Sequencing implements BeforeAllCallback, AfterAllCallback {
            @Override
            public void beforeAll(ExtensionContext context) throws InterruptedException {
                if (context.getRequiredTestClass() == Second.class) {
                    assertTrue(firstStarted.await(10, TimeUnit.SECONDS), "the first class did not start");
                }
            }

            @Override
            public void afterAll(ExtensionContext context) {
                if (context.getRequiredTestClass() == First.class) {
                    firstEnded.countDown();
                }
            }
        }

        abstract static class Base {
            @RegisterExtension
            @Order(1)
            static Sequencing sequencing = new Sequencing();

            @RegisterExtension
            @Order(2)
            static EchoServerExtension echo = EchoServerExtension.builder().build();

            /** Registered after the echo extension: its beforeAll runs once the class has the server. */
            @RegisterExtension
            @Order(3)
            static BeforeAllCallback started = context -> {
                if (context.getRequiredTestClass() == First.class) {
                    firstStarted.countDown();
                } else {
                    address = echo.address(); // as a client under test would take it
                    secondStarted.countDown();
                }
            };
        }

        @Tag("scenario")
        static class First extends Base {
            @Test
            void endsOnceTheSecondClassHasStarted() throws InterruptedException {
                assertTrue(secondStarted.await(10, TimeUnit.SECONDS), "the second class did not run alongside");
            }
        }

        @Tag("scenario")
        static class Second extends Base {
            @Test
            void echoesAfterTheFirstClassEnded() throws Exception {
                assertTrue(firstEnded.await(10, TimeUnit.SECONDS), "the first class did not end");
                try (TestClient client = new TestClient(address)) {
                    assertArrayEquals(new byte[] {9}, client.echo(new byte[] {9}));
                }
            }
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
