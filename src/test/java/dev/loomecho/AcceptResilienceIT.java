package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;

/**
 * A server out of file descriptors (EMFILE) must keep serving the connections it has, must not spin a
 * core while accept keeps failing, and must recover once descriptors free up. Each engine runs in a
 * child JVM, from the runnable jar (so this runs after package), under {@code ulimit -n 256}.
 */
@Timeout(120)
class AcceptResilienceIT {

    private static final int OPEN_FILE_LIMIT = 256;

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(Engine.class)
    void survivesRunningOutOfFileDescriptorsAndRecovers(Engine engine) throws Exception {
        List<TestClient> clients = new ArrayList<>();
        try (ChildServer server = ChildServer.startJar(OPEN_FILE_LIMIT, "--engine", engine.cliName(), "--threads", "1")) {
            TestClient first = new TestClient(server.address());
            clients.add(first);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(new byte[] {1}, first.echo(new byte[] {1})); // classes loaded, code paths warm
            }

            // More connections than the server has descriptors: the kernel completes them all (backlog),
            // the server's accept starts failing with "Too many open files".
            for (int i = 0; i < OPEN_FILE_LIMIT + 40; i++) {
                clients.add(new TestClient(server.address()));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> server.output().contains("Too many open files"));

            long cpuBefore = server.cpuTicks();
            long wallBefore = System.nanoTime();
            // For two seconds, the connection it has keeps being echoed, every poll.
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200))
                    .conditionEvaluationListener(condition -> {
                        if (!condition.isSatisfied()) {
                            throw new AssertionError("the first connection stopped echoing:\n" + server.output());
                        }
                    })
                    .until(() -> Arrays.equals(first.echo(new byte[] {2}), new byte[] {2}));
            double cpuShare = (server.cpuTicks() - cpuBefore) / 100.0 / ((System.nanoTime() - wallBefore) / 1e9);
            assertTrue(cpuShare < 0.5, "server used " + Math.round(cpuShare * 100) + "% of a core while out of descriptors");

            // Free descriptors: the connections waiting in the backlog are accepted and served.
            for (int i = 1; i <= 120; i++) {
                clients.get(i).close();
            }
            TestClient last = clients.get(clients.size() - 1);
            assertArrayEquals(new byte[] {3}, last.echo(new byte[] {3}), "accepting resumed after descriptors freed");
            assertTrue(server.output().lines().filter(l -> l.contains("accept failed")).count() <= 3,
                    "accept failures are logged at most once per interval:\n" + server.output());
        } finally {
            for (TestClient client : clients) {
                client.close();
            }
        }
    }
}
