package dev.loomecho.engine;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Once a second, frees the pooled buffers nobody needed during the last second ({@link BufferPool#trim()}),
 * on a thread of its own: freeing an arena's memory is a handshake with every thread of the JVM, which
 * an I/O thread should not wait for.
 */
public final class BufferTrimmer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BufferTrimmer.class);
    private static final long PERIOD_MILLIS = 1_000;

    private final BufferPool pool;
    private final JoinableThreads trimmerThread = new JoinableThreads("loom-echo-buffer-trimmer", false);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(trimmerThread);

    public BufferTrimmer(BufferPool pool) {
        this.pool = pool;
        timer.scheduleWithFixedDelay(this::trim, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void trim() {
        try {
            pool.trim();
        } catch (RuntimeException | OutOfMemoryError e) {
            // A scheduled task that throws is never run again: one failed trim must not end the trimming.
            log.warn("trimming the read-buffer pool failed", e);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            if (timer.awaitTermination(5, TimeUnit.SECONDS)) {
                trimmerThread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
