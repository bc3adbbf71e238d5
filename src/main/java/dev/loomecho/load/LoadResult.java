package dev.loomecho.load;

import java.util.Locale;

/**
 * The outcome of a load run. Latencies are in microseconds.
 *
 * @param connections   connections that were established
 * @param connectErrors connections that could not be established (refused, timed out)
 * @param failures      echoes that were wrong or cut short (a closed connection counts once)
 * @param messages      messages echoed and verified
 * @param bytes         bytes echoed and verified
 * @param seconds       wall time of the measured phase
 * @param connectSeconds wall time to open every connection, before the measured phase
 * @param cpuSeconds    CPU time this process (the client) used in the measured phase; -1 if unknown.
 *                      Near {@code seconds} per core used means the client, not the server, set the pace
 */
public record LoadResult(
        long connections, long connectErrors, long failures, long messages, long bytes, double seconds,
        double p50, double p90, double p99, double p999, double max, double connectSeconds, double cpuSeconds) {

    public double messagesPerSecond() {
        return seconds > 0 ? messages / seconds : 0;
    }

    public double mebibytesPerSecond() {
        return seconds > 0 ? bytes / seconds / (1 << 20) : 0;
    }

    /** Connections established per second: the figure that matters for churn runs. */
    public double connectionsPerSecond() {
        return seconds > 0 ? connections / seconds : 0;
    }

    public boolean ok() {
        return failures == 0 && connectErrors == 0;
    }

    /** One flat JSON object; written by hand, it needs no JSON library. */
    public String toJson() {
        return String.format(Locale.ROOT,
                "{\"ok\":%b,\"connections\":%d,\"connectErrors\":%d,\"failures\":%d,\"messages\":%d,\"bytes\":%d,"
                        + "\"seconds\":%.3f,\"msgsPerSec\":%.1f,\"mibPerSec\":%.2f,\"connectionsPerSec\":%.1f,"
                        + "\"connectSeconds\":%.3f,\"cpuSeconds\":%.3f,"
                        + "\"latencyMicros\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}}",
                ok(), connections, connectErrors, failures, messages, bytes, seconds, messagesPerSecond(),
                mebibytesPerSecond(), connectionsPerSecond(), connectSeconds, cpuSeconds, p50, p90, p99, p999, max);
    }

    public String toText() {
        return String.format(Locale.ROOT, """
                connections   %,d established in %.2f s, %,d connect errors
                echoed        %,d messages, %,d bytes in %.2f s, %,d failures
                throughput    %,.0f msgs/s, %.2f MiB/s, %,.0f connections/s
                latency (µs)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f
                client CPU    %.2f s (%.0f %% of one core)
                """, connections, connectSeconds, connectErrors, messages, bytes, seconds, failures, messagesPerSecond(),
                mebibytesPerSecond(), connectionsPerSecond(), p50, p90, p99, p999, max, cpuSeconds,
                seconds > 0 ? 100 * cpuSeconds / seconds : 0);
    }
}
