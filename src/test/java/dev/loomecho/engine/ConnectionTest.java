package dev.loomecho.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.ServerConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ConnectionTest {

    private static final long MAX_SPINS = 4_000_000_000L;

    /**
     * The connection log, the JFR event and the idle reaper read a connection's counters on threads other
     * than the one serving it. A plain field may be read once and kept (the JIT hoists the load out of a
     * hot loop), so a watcher spinning on it never sees it move.
     */
    @Test
    void aThreadWatchingTheCountersSeesThemMove() throws Exception {
        Connection connection = new Connections(ServerConfig.defaults()).admit(() -> { }, null);
        AtomicLong spinsToSeeReceived = new AtomicLong(-1);
        AtomicLong spinsToSeeEchoed = new AtomicLong(-1);
        Thread watcher = Thread.ofPlatform().name("test-watcher").start(() -> {
            long spins = 0;
            while (connection.received() == 0 && spins < MAX_SPINS) {
                spins++;
            }
            spinsToSeeReceived.set(spins);
            spins = 0;
            while (connection.echoed() == 0 && spins < MAX_SPINS) {
                spins++;
            }
            spinsToSeeEchoed.set(spins);
        });
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // Let the watcher spin long enough for the JIT to compile its loop, then count.
        await().atMost(Duration.ofSeconds(20)).until(() -> threads.getThreadCpuTime(watcher.threadId()) > 300_000_000L);
        connection.received(5);
        await().atMost(Duration.ofSeconds(20)).until(() -> spinsToSeeReceived.get() >= 0);
        connection.sent(5);
        watcher.join(Duration.ofSeconds(20));

        assertTrue(spinsToSeeReceived.get() < MAX_SPINS, "the watcher never saw received() move");
        assertTrue(spinsToSeeEchoed.get() < MAX_SPINS, "the watcher never saw echoed() move");
        assertEquals(5, connection.received());
        assertEquals(5, connection.echoed());
    }
}
