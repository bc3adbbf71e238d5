package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The build runs this class twice: in the suite's own JVM (no flags, as an embedder's tests run) and in
 * a JVM with {@code --enable-preview} on JDK 25. Each run says which supervisor it must see, so the
 * second run cannot silently fall back to the plain one.
 */
class SupervisorSelectionTest {

    private static Supervision expected() {
        String expected = System.getProperty("loomecho.test.expectedSupervision");
        assumeTrue(expected != null, "loomecho.test.expectedSupervision is set by the Maven build");
        return Supervision.valueOf(expected);
    }

    private static EchoServer start(Engine engine) throws IOException {
        return EchoServer.builder().port(0).engine(engine).drainTimeout(Duration.ZERO).start();
    }

    @Test
    void threadPerConnectionEnginesRunUnderTheSupervisorThisJvmOffers() throws IOException {
        Supervision expected = expected();
        for (Engine engine : new Engine[] {Engine.VIRTUAL, Engine.FUTURE}) {
            try (EchoServer server = start(engine); TestClient client = TestClient.connect(server)) {
                assertEquals(expected, server.supervision(), engine.cliName());
                assertArrayEquals(new byte[] {1, 2, 3}, client.echo(new byte[] {1, 2, 3}));
            }
        }
    }

    @Test
    void eventLoopEnginesHaveNoConnectionThreadsToSupervise() throws IOException {
        for (Engine engine : new Engine[] {Engine.COMPLETION, Engine.SELECTOR}) {
            try (EchoServer server = start(engine)) {
                assertEquals(Supervision.NONE, server.supervision(), engine.cliName());
            }
        }
    }

    @Test
    void aStructuredTaskScopeShowsTheConnectionsAsOneNamedTreeInTheThreadDump() throws IOException {
        assumeTrue(expected() == Supervision.STRUCTURED_TASK_SCOPE, "only where the scope is offered");
        try (EchoServer server = start(Engine.VIRTUAL); TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {4}, client.echo(new byte[] {4}));
            String dump = ThreadDumps.json();
            int container = dump.indexOf("\"container\": \"loom-echo-connections");
            assertTrue(container >= 0, "no loom-echo-connections scope in the dump:\n" + dump);
            int nextContainer = dump.indexOf("\"container\":", container + 1);
            String scope = dump.substring(container, nextContainer < 0 ? dump.length() : nextContainer);
            assertTrue(scope.contains("\"name\": \"loom-echo-conn-"), "the connection thread is not in the scope:\n" + scope);
        }
    }
}
