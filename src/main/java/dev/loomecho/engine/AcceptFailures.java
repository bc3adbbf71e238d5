package dev.loomecho.engine;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an accept loop does when accept itself fails (most often "Too many open files", or no memory for
 * the new socket) or no thread can be started for a connection: log at most once per interval, and
 * pause briefly so the loop never spins a core while descriptors, memory or threads are short. Existing
 * connections are untouched; accepting resumes by itself once the resource frees up.
 */
public final class AcceptFailures {

    /** Long enough to stop a spin, short enough that a freed descriptor is used almost at once. */
    public static final Duration BACKOFF = Duration.ofMillis(50);
    private static final Logger log = LoggerFactory.getLogger(AcceptFailures.class);

    private final RateLimitedLog failures = new RateLimitedLog(log, Duration.ofSeconds(10));

    /** Logs (rate-limited). Call from one accept thread at a time. */
    public synchronized void record(Throwable failure) {
        failures.warn("accept failed ({} similar failures not logged since the last report); backing off {} ms: {}",
                BACKOFF.toMillis(), failure.toString());
    }

    /** Logs, then pauses the calling accept thread for {@link #BACKOFF}. */
    public void recordAndBackOff(Throwable failure) throws InterruptedException {
        record(failure);
        backOff();
    }

    /** Pauses the calling accept thread for {@link #BACKOFF}; the failure was logged elsewhere. */
    public void backOff() throws InterruptedException {
        Thread.sleep(BACKOFF);
    }
}
