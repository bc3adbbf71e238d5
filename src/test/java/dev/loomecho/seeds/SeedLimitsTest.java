package dev.loomecho.seeds;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.TestClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each seed server at its model's limit, as the posts describe it: the 64-socket wall of select and of
 * a 64-event wait, and for the models without one, that the connections do not add threads. The seeds
 * run with the posts' own 1024-byte buffer. This is Wine's Winsock on Linux: the API's limits, not
 * Windows' kernel or timing.
 */
@Timeout(120)
class SeedLimitsTest {

    private static final int POSTS_BUFFER_SIZE = 1024;
    /** More than any 64-handle array could hold. */
    private static final int MANY_CLIENTS = 100;

    @BeforeAll
    static void needsMingwAndWine() {
        Wine.missing().ifPresent(Assumptions::abort);
    }

    @Test
    void selectRefusesThe64thClientBecauseAnFdSetHolds64Sockets() throws Exception {
        refusesTheClientBeyond63(SeedModel.SELECT, "FD_SETSIZE=64");
    }

    @Test
    void eventSelectRefusesThe64thClientBecauseOneWaitTakes64Events() throws Exception {
        refusesTheClientBeyond63(SeedModel.EVENTSELECT, "WSA_MAXIMUM_WAIT_EVENTS=64");
    }

    @Test
    void overlappedIoWithEventsClosesThe64thClientBecauseOneWaitTakes64Events() throws Exception {
        refusesTheClientBeyond63(SeedModel.OVERLAPPED_EVENT, "WSA_MAXIMUM_WAIT_EVENTS=64");
    }

    @Test
    void asyncSelectServesAHundredClientsAtOnceOnItsOneThread() throws Exception {
        try (SeedProcess seed = Wine.start(SeedModel.ASYNCSELECT, POSTS_BUFFER_SIZE)) {
            assertEquals(1, threadsWhileServingMany(seed), "threads of " + seed + " with " + MANY_CLIENTS + " clients");
        }
    }

    @Test
    void completionRoutinesServeAHundredClientsAtOnceOnTheOneThreadThatStartedTheIo() throws Exception {
        try (SeedProcess seed = Wine.start(SeedModel.OVERLAPPED_ROUTINE, POSTS_BUFFER_SIZE)) {
            assertEquals(1, threadsWhileServingMany(seed), "threads of " + seed + " with " + MANY_CLIENTS + " clients");
        }
    }

    @Test
    void aCompletionPortServesAHundredClientsAtOnceOnItsFixedPool() throws Exception {
        try (SeedProcess seed = Wine.start(SeedModel.IOCP, POSTS_BUFFER_SIZE)) {
            Matcher pool = Pattern.compile("iocp: (\\d+) worker threads").matcher(String.join("\n", seed.lines()));
            assertTrue(pool.find(), "no pool size in " + seed.lines());
            int workers = Integer.parseInt(pool.group(1));
            int idle = seed.threadCount();
            assertEquals(workers + 1, idle, "the workers and the main thread that waits for them");
            assertEquals(idle, threadsWhileServingMany(seed), "threads of " + seed + " with " + MANY_CLIENTS + " clients");
        }
    }

    /**
     * 63 clients are served; the 64th is turned away at once and the server says why; when one of the
     * 63 leaves, its place is free again.
     */
    private static void refusesTheClientBeyond63(SeedModel model, String limit) throws Exception {
        List<TestClient> served = new ArrayList<>();
        try (SeedProcess seed = Wine.start(model, POSTS_BUFFER_SIZE)) {
            assertTrue(seed.lines().getFirst().contains(limit), seed.lines().getFirst());
            byte[] ping = {0, 'p', 0, 'i', 0, 'n', 0, 'g'}; // NUL bytes: the posts' strlen would echo nothing
            for (int i = 1; i <= 63; i++) {
                TestClient client = new TestClient(seed.address());
                served.add(client);
                assertArrayEquals(ping, client.echo(ping), "client " + i);
            }
            try (TestClient beyond = new TestClient(seed.address())) {
                assertTrue(beyond.isRefused(), "client 64 was not turned away");
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> seed.lines().stream().anyMatch(line -> line.contains("refused a client")));
            assertArrayEquals(ping, served.getLast().echo(ping), "the 63 are still served");

            served.removeFirst().close();
            // Nothing tells us when the server has seen the client go: retry, bounded.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                try (TestClient next = new TestClient(seed.address())) {
                    return next.echoOrRefused(ping);
                }
            });
        } finally {
            for (TestClient client : served) {
                client.close();
            }
        }
    }

    /** Opens {@link #MANY_CLIENTS} connections, each echoing its own bytes, and counts threads while all are open. */
    private static int threadsWhileServingMany(SeedProcess seed) throws Exception {
        List<TestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < MANY_CLIENTS; i++) {
                TestClient client = new TestClient(seed.address());
                clients.add(client);
                byte[] payload = TestClient.randomBytes(4 * POSTS_BUFFER_SIZE + i, i);
                assertArrayEquals(payload, client.echo(payload), "client " + (i + 1));
            }
            int threads = seed.threadCount();
            for (int i = 0; i < MANY_CLIENTS; i++) { // every one is still served while all are open
                byte[] ping = {(byte) i};
                assertArrayEquals(ping, clients.get(i).echo(ping), "client " + (i + 1) + " with all open");
            }
            return threads;
        } finally {
            for (TestClient client : clients) {
                client.close();
            }
        }
    }
}
