package dev.loomecho.udp;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Spots another echo server at the other end: a source that keeps sending back replies we sent it
 * recently. Datagrams spoofed from one echo server's address to another's bounce between them for
 * ever, and the per-source rate limit does not end that when the loop runs slower than the rate (a slow
 * or distant link). With one datagram in flight every reply is the last one again; with several, the
 * other server returns them in turn, so no two replies in a row are the same. So the detector remembers
 * each source's last {@link #WINDOW} distinct replies and counts the replies in a row since the last
 * that repeated none of them: once {@code --udp-loop-limit} replies ran so, the next repeat is refused
 * and forgotten. Each
 * refusal takes one datagram out of the loop, so a loop of up to {@code WINDOW} datagrams ends after at
 * most about {@code WINDOW x (limit + 1)} replies. (More datagrams in flight need as many spoofed
 * packets, and the rate limit still bounds what any source can get.)
 *
 * <p>A reply that repeats none of the recent ones starts the count afresh, so a client whose payloads
 * change — or that repeats one among fresh ones — is never refused. A client that sends one payload
 * over and over, from one socket, loses one reply in {@code limit + 1}, and its retry is answered (the
 * refused payload is forgotten); a limit of 0 turns the rule off, for a test that needs every repeated
 * reply. The table keeps the most recently answered {@link #MAX_SOURCES} sources (8 fingerprints
 * each), so spoofed sources cannot grow memory without bound. Used by one receiving thread only,
 * hence not synchronized.
 */
final class EchoLoopDetector {

    static final int MAX_SOURCES = 16_384;
    /** Distinct recent replies remembered per source: a loop of up to this many datagrams is caught. */
    static final int WINDOW = 8;

    private final int maxRepeats;

    private final CRC32C crc = new CRC32C();
    private final Map<InetSocketAddress, RecentReplies> recentReplies = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetSocketAddress, RecentReplies> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    /** {@code maxRepeats}: replies in a row, all repeats but the first, a source gets before the next repeat is refused; 0 = never. */
    EchoLoopDetector(int maxRepeats) {
        this.maxRepeats = maxRepeats;
    }

    /** Length and CRC-32C of the datagram's remaining bytes: equal fingerprints mean an unchanged reply. */
    long fingerprint(ByteBuffer datagram) {
        crc.reset();
        crc.update(datagram.duplicate());
        return (long) datagram.remaining() << 32 | crc.getValue();
    }

    /** True if a datagram with this fingerprint would repeat a recent reply to {@code source} once too often. */
    boolean isLoop(InetSocketAddress source, long fingerprint) {
        if (maxRepeats == 0) {
            return false;
        }
        RecentReplies recent = recentReplies.get(source);
        if (recent == null || recent.run < maxRepeats || !recent.contains(fingerprint)) {
            return false;
        }
        // This datagram leaves the loop. Whatever the source sends next counts afresh; this payload
        // again (a client's retry) is new to us and answered.
        recent.forget(fingerprint);
        recent.run = 0;
        return true;
    }

    /** Records that {@code source} is being answered with a datagram of this fingerprint. */
    void replying(InetSocketAddress source, long fingerprint) {
        if (maxRepeats == 0) {
            return;
        }
        RecentReplies recent = recentReplies.computeIfAbsent(source, s -> new RecentReplies());
        if (recent.contains(fingerprint)) {
            recent.run++;
        } else {
            recent.remember(fingerprint);
            recent.run = 1;
        }
    }

    /** One source's last {@link #WINDOW} distinct replies (a new one overwrites the slots in turn), and the run of repeats. */
    private static final class RecentReplies {
        private final long[] fingerprints = new long[WINDOW];
        private int count;
        private int next;
        /** Replies in a row since the last one that repeated none of {@code fingerprints}, that one included. */
        int run;

        boolean contains(long fingerprint) {
            for (int i = 0; i < count; i++) {
                if (fingerprints[i] == fingerprint) {
                    return true;
                }
            }
            return false;
        }

        void remember(long fingerprint) {
            fingerprints[next] = fingerprint;
            next = (next + 1) % WINDOW;
            count = Math.max(count, next == 0 ? WINDOW : next);
        }

        void forget(long fingerprint) {
            for (int i = 0; i < count; i++) {
                if (fingerprints[i] == fingerprint) {
                    // Keep the live entries packed in [0, count): move the last one here.
                    fingerprints[i] = fingerprints[count - 1];
                    count--;
                    next = count % WINDOW;
                    return;
                }
            }
        }
    }
}
