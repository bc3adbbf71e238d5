package dev.loomecho.engine;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * Logs a recurring event at most once per interval, saying how many were not logged in between —
 * for events a hostile peer can trigger thousands of times a second (accept failures, UDP drops).
 * Not thread-safe: each instance belongs to one loop thread.
 */
public final class RateLimitedLog {

    private final Logger log;
    private final long intervalNanos;
    private long lastLogged;
    private long suppressed;

    public RateLimitedLog(Logger log, Duration interval) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
        this.lastLogged = System.nanoTime() - intervalNanos;
    }

    /** {@code format}'s first placeholder receives the count of events not logged since the last line. */
    public void warn(String format, Object... args) {
        long now = System.nanoTime();
        if (now - lastLogged < intervalNanos) {
            suppressed++;
            return;
        }
        Object[] withCount = new Object[args.length + 1];
        withCount[0] = suppressed;
        System.arraycopy(args, 0, withCount, 1, args.length);
        log.warn(format, withCount);
        lastLogged = now;
        suppressed = 0;
    }
}
