package dev.loomecho.load;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * What a load run does.
 *
 * @param host        server host
 * @param port        server port
 * @param connections connections opened at once (or, with {@code churn}, clients looping in parallel)
 * @param messages    messages per connection; ignored when {@code duration} is set
 * @param duration    run for this long instead of a message count; {@code null} to count messages
 * @param size        bytes per message
 * @param pipeline    messages written back-to-back before reading their echoes
 * @param rate        total messages per second across all connections, or 0 for as fast as possible;
 *                    latency is then measured from each message's scheduled time (no coordinated omission);
 *                    not with {@code churn}
 * @param hold        keep every connection open and silent this long before the first message (idle test)
 * @param churn       open a new connection for every message: connect, echo, close
 * @param driver      what drives the connections: a virtual thread each, or one selector thread for all
 * @param timeout     the longest a connection waits for anything from the server — to connect, for the
 *                    next echoed bytes, for the server's close after the client's half-close — before
 *                    it fails
 * @param tls         speak TLS with this client context (it decides whom to trust), the handshake part of
 *                    each connect; empty = plain TCP. Thread driver only
 */
public record LoadOptions(
        String host, int port, int connections, long messages, Duration duration, int size, int pipeline,
        double rate, Duration hold, boolean churn, Driver driver, Duration timeout, Optional<SSLContext> tls) {

    /** How long a connection waits for the server unless told otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** How the load generator waits for its connections. */
    public enum Driver {
        /** A virtual thread per connection, blocking I/O: simple, and it paces ({@code rate}) and churns. */
        THREADS,
        /**
         * One platform thread and a {@code Selector} for every connection: far less scheduling per
         * message, so the client is less often the bottleneck when a benchmark measures the server.
         */
        SELECTOR
    }

    /** The thread-per-connection driver and the default timeout. */
    public LoadOptions(String host, int port, int connections, long messages, Duration duration, int size,
                       int pipeline, double rate, Duration hold, boolean churn) {
        this(host, port, connections, messages, duration, size, pipeline, rate, hold, churn, Driver.THREADS);
    }

    /** Plain TCP. */
    public LoadOptions(String host, int port, int connections, long messages, Duration duration, int size,
                       int pipeline, double rate, Duration hold, boolean churn, Driver driver, Duration timeout) {
        this(host, port, connections, messages, duration, size, pipeline, rate, hold, churn, driver, timeout,
                Optional.empty());
    }

    /** The default timeout. */
    public LoadOptions(String host, int port, int connections, long messages, Duration duration, int size,
                       int pipeline, double rate, Duration hold, boolean churn, Driver driver) {
        this(host, port, connections, messages, duration, size, pipeline, rate, hold, churn, driver, DEFAULT_TIMEOUT);
    }

    private static final Duration MAX_DURATION = Duration.ofNanos(Long.MAX_VALUE);

    public LoadOptions {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(hold, "hold");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(tls, "tls");
        require(tls.isEmpty() || driver == Driver.THREADS, "--tls-ca needs --driver threads (the selector driver speaks plain TCP)");
        require(port >= 1 && port <= 65_535, "port must be 1..65535, was " + port);
        require(connections >= 1, "connections must be at least 1, was " + connections);
        require(duration != null || messages >= 1, "messages must be at least 1, was " + messages);
        // Counted in nanoseconds while running: longer would fail there, after the clients connected.
        require(duration == null || duration.compareTo(MAX_DURATION) <= 0, "duration must be at most 292 years");
        require(hold.compareTo(MAX_DURATION) <= 0 && !hold.isNegative(), "hold must be 0 to 292 years, was " + hold);
        require(duration == null || duration.toMillis() >= 1, "duration must be at least 1ms");
        // A socket timeout is an int of milliseconds, and 0 would mean "wait for ever".
        require(timeout.toMillis() >= 1 && timeout.toMillis() <= Integer.MAX_VALUE,
                "timeout must be 1ms to 24 days, was " + timeout);
        require(size >= 1, "size must be at least 1 byte, was " + size);
        require(pipeline >= 1, "pipeline must be at least 1, was " + pipeline);
        require(rate >= 0, "rate must not be negative, was " + rate);
        require(rate == 0 || pipeline == 1, "--rate paces single messages: use it with --pipeline 1");
        require(rate == 0 || !churn, "--rate paces the messages of open connections, --churn is not paced: use one of them");
        require(driver == Driver.THREADS || (rate == 0 && !churn),
                "--driver selector neither paces nor churns: use --driver threads for --rate and --churn");
        // Churning connections live for one message: there is no connection to hold open, and a hold
        // that is not waited for would only be subtracted from the measured time.
        require(!churn || hold.isZero(), "--hold keeps connections idle, --churn opens one per message: use one of them");
        // Each connection keeps two batches of random bytes, in one array.
        require(size <= Integer.MAX_VALUE / 4 / pipeline, "size x pipeline must stay under 512 MiB");
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** How many messages go out per write: one at a fixed rate, {@code pipeline} otherwise. */
    int batch() {
        return rate > 0 ? 1 : pipeline;
    }

    int timeoutMillis() {
        return (int) timeout.toMillis();
    }
}
