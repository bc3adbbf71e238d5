package dev.loomecho.metrics;

import dev.loomecho.Stats;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve --stats-interval}: one log line per interval, so a class can watch what the server's
 * threads do while it runs — connections, bytes per second, read-buffer memory, platform threads, and
 * the virtual-thread scheduler's carriers and queue.
 */
public final class StatsLog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StatsLog.class);

    private final Supplier<Stats> stats;
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("loom-echo-stats").daemon().factory());
    private Stats previous;
    private long previousNanos;

    private StatsLog(Supplier<Stats> stats) {
        this.stats = stats;
    }

    /** Logs a line every {@code interval} until closed. */
    public static StatsLog start(Supplier<Stats> stats, Duration interval) {
        StatsLog statsLog = new StatsLog(stats);
        statsLog.previous = stats.get();
        statsLog.previousNanos = System.nanoTime();
        long millis = Math.max(1, interval.toMillis());
        // Fixed delay, not rate: after a stall the lines must not come in a burst; each line measures its own interval.
        statsLog.timer.scheduleWithFixedDelay(statsLog::logLine, millis, millis, TimeUnit.MILLISECONDS);
        return statsLog;
    }

    private void logLine() {
        Stats now = stats.get();
        long nanos = System.nanoTime();
        log.info(line(previous, now, (nanos - previousNanos) / 1e9, RuntimeGauges.read()));
        previous = now;
        previousNanos = nanos;
    }

    /** The line for the interval from {@code before} to {@code after}, {@code seconds} long. */
    static String line(Stats before, Stats after, double seconds, RuntimeGauges threads) {
        double in = (after.bytesIn() - before.bytesIn()) / seconds;
        double out = (after.bytesOut() - before.bytesOut()) / seconds;
        return String.format(Locale.ROOT,
                "connections %d active, %d accepted, %d rejected | in %s/s, out %s/s"
                        + " | buffers %s in use, %s pooled, %d allocation failures | platform threads %d"
                        + " | virtual-thread scheduler: parallelism %s, pool %s, mounted %s, queued %s",
                after.active(), after.accepted(), after.rejected(), bytes(in), bytes(out),
                bytes(after.bufferBytesInUse()), bytes(after.bufferBytesPooled()), after.bufferAllocationFailures(),
                threads.platformThreads(),
                known(threads.schedulerParallelism()), known(threads.schedulerPoolSize()),
                known(threads.mountedVirtualThreads()), known(threads.queuedVirtualThreads()));
    }

    private static String known(long gauge) {
        return gauge < 0 ? "n/a" : String.valueOf(gauge);
    }

    private static String bytes(double amount) {
        if (amount >= 1 << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", amount / (1 << 20));
        }
        if (amount >= 1 << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", amount / (1 << 10));
        }
        return String.format(Locale.ROOT, "%.0f B", amount);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
