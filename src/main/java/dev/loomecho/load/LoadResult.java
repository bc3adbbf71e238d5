package dev.loomecho.load;

import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The outcome of a load run. Latencies are in microseconds.
 *
 * @param connections   connections that were established
 * @param connectErrors connections that could not be established (refused, timed out)
 * @param failures      connections that failed: a wrong, short or overlong echo, a timeout, a broken socket
 * @param failureCauses how many of the {@code failures} had each cause (causes that never happened are absent)
 * @param messages      messages echoed and verified
 * @param bytes         bytes echoed and verified
 * @param seconds       wall time of the measured phase (after the connects and the hold)
 * @param connectSeconds wall time to open every connection, before the measured phase
 * @param cpuSeconds    CPU time this process (the client) used in the measured phase; -1 if unknown.
 *                      Near {@code seconds} per core used means the client, not the server, set the pace
 * @param churn         whether each message had a connection of its own (then connections/s is the figure)
 */
public record LoadResult(
        long connections, long connectErrors, long failures, Map<Failure, Long> failureCauses, long messages,
        long bytes, double seconds, double p50, double p90, double p99, double p999, double max,
        double connectSeconds, double cpuSeconds, boolean churn) {

    public LoadResult {
        failureCauses = Map.copyOf(failureCauses);
    }

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

    /** One flat JSON object (failure causes nested); written by hand, it needs no JSON library. */
    public String toJson() {
        String causes = failureCauses.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(cause -> "\"" + cause.getKey().key() + "\":" + cause.getValue())
                .collect(Collectors.joining(",", "{", "}"));
        return String.format(Locale.ROOT,
                "{\"ok\":%b,\"connections\":%d,\"connectErrors\":%d,\"failures\":%d,\"failureCauses\":%s,"
                        + "\"messages\":%d,\"bytes\":%d,\"seconds\":%.3f,\"msgsPerSec\":%.1f,\"mibPerSec\":%.2f,%s"
                        + "\"connectSeconds\":%.3f,\"cpuSeconds\":%.3f,"
                        + "\"latencyMicros\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}}",
                ok(), connections, connectErrors, failures, causes, messages, bytes, seconds, messagesPerSecond(),
                mebibytesPerSecond(),
                churn ? String.format(Locale.ROOT, "\"connectionsPerSec\":%.1f,", connectionsPerSecond()) : "",
                connectSeconds, cpuSeconds, p50, p90, p99, p999, max);
    }

    public String toText() {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, """
                connections   %,d established in %.2f s, %,d connect errors
                echoed        %,d messages, %,d bytes in %.2f s, %,d failures
                """, connections, connectSeconds, connectErrors, messages, bytes, seconds, failures));
        failureCauses.entrySet().stream()
                .sorted(Map.Entry.<Failure, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .forEach(cause -> text.append(String.format(Locale.ROOT, "              %,d × %s%n",
                        cause.getValue(), cause.getKey().description())));
        text.append(String.format(Locale.ROOT, "throughput    %,.0f msgs/s, %.2f MiB/s%s%n", messagesPerSecond(),
                mebibytesPerSecond(), churn ? String.format(Locale.ROOT, ", %,.0f connections/s", connectionsPerSecond()) : ""));
        text.append(String.format(Locale.ROOT, """
                latency (µs)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f
                client CPU    %.2f s (%.0f %% of one core)
                """, p50, p90, p99, p999, max, cpuSeconds, seconds > 0 ? 100 * cpuSeconds / seconds : 0));
        return text.toString();
    }
}
