package dev.loomecho.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.loomecho.ServerConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
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

    /**
     * Out of heap, the log line (its {@code this + " closed"}, the failure's description) may not fit
     * either. fail() must still close and count, and return: its callers release the buffer next.
     */
    @Test
    void failingWithNoHeapForTheLogLineClosesCountsAndReturns() {
        Connections connections = new Connections(ServerConfig.defaults());
        AtomicBoolean channelClosed = new AtomicBoolean();
        Connection connection = connections.admit(() -> channelClosed.set(true), null);

        returnsNormally("fail", () -> connection.fail(new NoRoomToDescribeIt()));
        connection.readBuffer().release(); // what every call site does next

        assertTrue(connection.isClosed() && channelClosed.get());
        assertEquals(0, connections.active());
        assertEquals(1, connections.snapshot(0, 0).errors());
        assertEquals(0, connections.buffers().usage().bytesInUse());
    }

    @Test
    void abandoningWithNoHeapForTheLogLineClosesCountsReleasesAndReturns() {
        Connections connections = new Connections(ServerConfig.defaults());
        AtomicBoolean channelClosed = new AtomicBoolean();
        Connection connection = connections.admit(() -> channelClosed.set(true), null);
        assertFalse(connections.buffers().usage().bytesInUse() == 0, "admission gave it a buffer");

        returnsNormally("abandon", () -> connection.abandon(new NoRoomToDescribeIt()));

        assertTrue(connection.isClosed() && channelClosed.get());
        assertEquals(0, connections.active());
        assertEquals(1, connections.snapshot(0, 0).errors());
        assertEquals(0, connections.buffers().usage().bytesInUse());
    }

    /** Caught here: JUnit and Surefire treat an OutOfMemoryError as the end of the test JVM, not a failure. */
    private static void returnsNormally(String what, Runnable call) {
        try {
            call.run();
        } catch (OutOfMemoryError escaped) {
            fail(what + "() let its log line's OutOfMemoryError out: " + escaped.getMessage());
        }
    }

    /** An OutOfMemoryError whose description does not fit in the heap either, as the real one's may not. */
    private static final class NoRoomToDescribeIt extends OutOfMemoryError {
        @Override
        public String toString() {
            throw new OutOfMemoryError("no room for the description");
        }
    }
}
