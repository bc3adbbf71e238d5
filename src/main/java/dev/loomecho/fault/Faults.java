package dev.loomecho.fault;

import java.time.Duration;
import java.util.Objects;

/**
 * Faults ("toxics", as Toxiproxy calls them) applied to the echo, so a client under test meets a slow,
 * choppy or failing peer on purpose. Immutable; {@link #NONE} is a plain echo. Thresholds count the
 * bytes echoed on one connection; -1 turns a threshold off. Delays are at most {@link #MAX_DELAY}.
 *
 * @param latency       delay before each echo, at most an hour
 * @param jitter        the delay varies by up to ± this much; at most the latency
 * @param bandwidth     bytes per second the echo is paced to; 0 = unlimited
 * @param sliceBytes    the echo is written in chunks of at most this many bytes; 0 = whole
 * @param sliceDelay    pause between chunks, at most an hour
 * @param closeAfter    after this many bytes echoed, close the connection (FIN)
 * @param resetAfter    after this many bytes echoed, reset the connection (RST, via SO_LINGER 0)
 * @param stallAfter    after this many bytes echoed, stop echoing but keep the connection open
 * @param readBandwidth bytes per second the server reads from a connection, so the client's writes meet
 *                      TCP back-pressure; 0 = unlimited
 * @param toxicity      the share (0 to 1) of new connections the faults apply to, chosen once per
 *                      connection when it is accepted; 1 = every connection
 * @param tls           the faults of TLS connections only (handshake, truncation, certificate)
 */
public record Faults(Duration latency, Duration jitter, long bandwidth, int sliceBytes, Duration sliceDelay,
                     long closeAfter, long resetAfter, long stallAfter, long readBandwidth, double toxicity,
                     TlsFaults tls) {

    /**
     * The longest latency, jitter or slice delay: an hour, far beyond any client timeout worth testing,
     * and small enough that no sum of delays can overflow the nanoseconds the echo counts in.
     */
    public static final Duration MAX_DELAY = Duration.ofHours(1); // before NONE, whose construction checks it

    public static final Faults NONE = new Faults(Duration.ZERO, Duration.ZERO, 0, 0, Duration.ZERO, -1, -1, -1, 0, 1,
            TlsFaults.NONE);

    public Faults {
        Objects.requireNonNull(latency, "latency");
        Objects.requireNonNull(jitter, "jitter");
        Objects.requireNonNull(sliceDelay, "sliceDelay");
        Objects.requireNonNull(tls, "tls");
        require(!latency.isNegative() && !jitter.isNegative() && !sliceDelay.isNegative(), "fault delays must not be negative");
        require(jitter.compareTo(latency) <= 0, "latency jitter must not exceed the latency");
        require(latency.compareTo(MAX_DELAY) <= 0, "latency must be at most 1 hour, was " + latency);
        require(sliceDelay.compareTo(MAX_DELAY) <= 0, "slice delay must be at most 1 hour, was " + sliceDelay);
        require(bandwidth >= 0, "bandwidth must not be negative, was " + bandwidth);
        require(sliceBytes >= 0, "slice must not be negative, was " + sliceBytes);
        require(closeAfter >= -1 && resetAfter >= -1 && stallAfter >= -1, "fault thresholds must be bytes >= 0");
        require(readBandwidth >= 0, "read-bandwidth must not be negative, was " + readBandwidth);
        require(toxicity >= 0 && toxicity <= 1, "toxicity must be a share from 0 to 1, was " + toxicity); // and not NaN
    }

    /**
     * Whether no echo is changed: every fault off. The toxicity is not looked at, since it only chooses
     * which connections get the faults; with none to get, connections take the plain echo's path.
     * Checked on every echo: the identity test is the fast path ({@code Connections} stores NONE itself).
     */
    public boolean isNone() {
        return this == NONE || latency.isZero() && jitter.isZero() && bandwidth == 0 && sliceBytes == 0
                && sliceDelay.isZero() && closeAfter == -1 && resetAfter == -1 && stallAfter == -1 && readBandwidth == 0
                && tls.isNone();
    }

    public Faults withLatency(Duration latency, Duration jitter) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, resetAfter, stallAfter,
                readBandwidth, toxicity, tls);
    }

    public Faults withBandwidth(long bytesPerSecond) {
        return new Faults(latency, jitter, bytesPerSecond, sliceBytes, sliceDelay, closeAfter, resetAfter, stallAfter,
                readBandwidth, toxicity, tls);
    }

    public Faults withSlicing(int bytes, Duration delay) {
        return new Faults(latency, jitter, bandwidth, bytes, delay, closeAfter, resetAfter, stallAfter,
                readBandwidth, toxicity, tls);
    }

    public Faults withCloseAfter(long bytes) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, bytes, resetAfter, stallAfter,
                readBandwidth, toxicity, tls);
    }

    public Faults withResetAfter(long bytes) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, bytes, stallAfter,
                readBandwidth, toxicity, tls);
    }

    public Faults withStallAfter(long bytes) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, resetAfter, bytes,
                readBandwidth, toxicity, tls);
    }

    /** Paces the server's reads from each connection to this many bytes per second; 0 = unlimited. */
    public Faults withReadBandwidth(long bytesPerSecond) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, resetAfter, stallAfter,
                bytesPerSecond, toxicity, tls);
    }

    /**
     * Applies the faults to only this share of new connections (0 to 1), chosen when each is accepted;
     * {@code EchoServer.builder().seed(n)} makes the choices reproducible.
     */
    public Faults withToxicity(double share) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, resetAfter, stallAfter,
                readBandwidth, share, tls);
    }

    /** The TLS connections' own faults, e.g. {@code withTls(TlsFaults.NONE.withTruncateAfter(100))}. */
    public Faults withTls(TlsFaults tls) {
        return new Faults(latency, jitter, bandwidth, sliceBytes, sliceDelay, closeAfter, resetAfter, stallAfter,
                readBandwidth, toxicity, tls);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
