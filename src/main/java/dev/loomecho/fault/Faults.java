package dev.loomecho.fault;

import java.time.Duration;
import java.util.Objects;

/**
 * Faults ("toxics", as Toxiproxy calls them) applied to the echo, so a client under test meets a slow,
 * choppy or failing peer on purpose. Immutable; {@link #NONE} is a plain echo. Thresholds count the
 * bytes echoed on one connection; -1 turns a threshold off.
 *
 * @param latency     delay before each echo
 * @param jitter      the delay varies by up to ± this much
 * @param bandwidth   bytes per second the echo is paced to; 0 = unlimited
 * @param sliceBytes  the echo is written in chunks of at most this many bytes; 0 = whole
 * @param sliceDelay  pause between chunks
 * @param closeAfter  after this many bytes echoed, close the connection (FIN)
 * @param resetAfter  after this many bytes echoed, reset the connection (RST, via SO_LINGER 0)
 * @param stallAfter  after this many bytes echoed, stop echoing but keep the connection open
 */
public record Faults(Duration latency, Duration jitter, long bandwidth, int sliceBytes, Duration sliceDelay,
                     long closeAfter, long resetAfter, long stallAfter) {

    public static final Faults NONE = new Faults(Duration.ZERO, Duration.ZERO, 0, 0, Duration.ZERO, -1, -1, -1);

    public Faults {
        Objects.requireNonNull(latency, "latency");
        Objects.requireNonNull(jitter, "jitter");
        Objects.requireNonNull(sliceDelay, "sliceDelay");
        require(!latency.isNegative() && !jitter.isNegative() && !sliceDelay.isNegative(), "fault delays must not be negative");
        require(jitter.compareTo(latency) <= 0, "latency jitter must not exceed the latency");
        require(bandwidth >= 0, "bandwidth must not be negative, was " + bandwidth);
        require(sliceBytes >= 0, "slice must not be negative, was " + sliceBytes);
        require(closeAfter >= -1 && resetAfter >= -1 && stallAfter >= -1, "fault thresholds must be bytes >= 0");
    }

    /** Checked on every echo: the identity test is the fast path, {@code Connections} stores NONE itself. */
    public boolean isNone() {
        return this == NONE || equals(NONE);
    }

    public Faults withLatency(Duration latency, Duration jitter) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, resetAfter, stallAfter);
    }

    public Faults withBandwidth(long bytesPerSecond) {
        return new Faults(latency, jitter, bytesPerSecond, sliceBytes, sliceDelay, closeAfter, resetAfter, stallAfter);
    }

    public Faults withSlicing(int bytes, Duration delay) {
        return new Faults(latency, jitter, bandwidth, bytes, delay, closeAfter, resetAfter, stallAfter);
    }

    public Faults withCloseAfter(long bytes) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, bytes, resetAfter, stallAfter);
    }

    public Faults withResetAfter(long bytes) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, bytes, stallAfter);
    }

    public Faults withStallAfter(long bytes) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, resetAfter, bytes);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
