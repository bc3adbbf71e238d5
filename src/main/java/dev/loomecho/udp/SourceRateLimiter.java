package dev.loomecho.udp;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket per source address: {@code rate} datagrams per second, bursts up to {@code burst}.
 * The table keeps the most recently seen {@link #MAX_SOURCES} sources, so spoofed source addresses
 * cannot grow memory without bound. Used by one receiving thread only, hence not synchronized.
 */
final class SourceRateLimiter {

    static final int MAX_SOURCES = 16_384;

    private final double tokensPerNano;
    private final double burst;
    private final Map<InetAddress, Bucket> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    SourceRateLimiter(int ratePerSecond, int burst) {
        this.tokensPerNano = ratePerSecond / 1e9;
        this.burst = burst;
    }

    /** Takes one token for {@code source} at time {@code now}; false when its bucket is empty. */
    boolean tryAcquire(InetAddress source, long now) {
        Bucket bucket = buckets.computeIfAbsent(source, s -> new Bucket(burst, now));
        bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.refilledAt) * tokensPerNano);
        bucket.refilledAt = now;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return true;
        }
        return false;
    }

    private static final class Bucket {
        double tokens;
        long refilledAt;

        Bucket(double tokens, long refilledAt) {
            this.tokens = tokens;
            this.refilledAt = refilledAt;
        }
    }
}
