package dev.loomecho.engine;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes connections that have made no progress — nothing read and nothing written — for the idle
 * timeout. One sweeper for every engine: it covers a silent peer (slowloris) as well as a peer that
 * stopped reading, whose echo write can then block forever, which no socket read timeout would catch.
 * Closing the channel wakes whatever the engine was waiting in.
 */
public final class IdleReaper implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(IdleReaper.class);

    private final Connections connections;
    private final long idleNanos;
    private final JoinableThreads sweeperThread = new JoinableThreads("loom-echo-idle-reaper", false);
    private final ScheduledExecutorService sweeper;

    public IdleReaper(Connections connections, Duration idleTimeout) {
        this.connections = connections;
        this.idleNanos = idleTimeout.toNanos();
        this.sweeper = Executors.newSingleThreadScheduledExecutor(sweeperThread);
        // Sweeping four times per timeout bounds how late a close can be to a quarter of the timeout.
        long period = Math.clamp(idleTimeout.toMillis() / 4, 10, 1_000);
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        long now = System.nanoTime();
        for (Connection connection : connections.live()) {
            if (now - connection.lastProgressNanos() > idleNanos) {
                try {
                    connections.closeIdle(connection);
                } catch (RuntimeException e) {
                    // A scheduled task that throws is never run again: one failed close must not end the reaping.
                    log.warn("closing idle {} failed", connection, e);
                }
            }
        }
    }

    @Override
    public void close() {
        sweeper.shutdownNow(); // cancels the next sweep; one under way is short
        try {
            if (sweeper.awaitTermination(5, TimeUnit.SECONDS)) {
                sweeperThread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
