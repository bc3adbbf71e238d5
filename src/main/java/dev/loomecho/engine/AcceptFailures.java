package dev.loomecho.engine;

import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an accept loop does when accept itself fails (most often "Too many open files"): log at most
 * once per interval, and pause briefly so the loop never spins a core while descriptors are short.
 * Existing connections are untouched; accepting resumes by itself once descriptors free up.
 */
public final class AcceptFailures {

    /** Long enough to stop a spin, short enough that a freed descriptor is used almost at once. */
    public static final Duration BACKOFF = Duration.ofMillis(50);
    private static final Logger log = LoggerFactory.getLogger(AcceptFailures.class);

    private final RateLimitedLog failures = new RateLimitedLog(log, Duration.ofSeconds(10));

    /** Logs (rate-limited). Call from one accept thread at a time. */
    public synchronized void record(IOException failure) {
        failures.warn("accept failed ({} similar failures not logged since the last report); backing off {} ms: {}",
                BACKOFF.toMillis(), failure.toString());
    }

    /** Logs, then pauses the calling accept thread for {@link #BACKOFF}. */
    public void recordAndBackOff(IOException failure) throws InterruptedException {
        record(failure);
        Thread.sleep(BACKOFF);
    }
}
