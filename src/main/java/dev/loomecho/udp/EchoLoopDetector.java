package dev.loomecho.udp;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Spots another echo server at the other end: a source that keeps sending back exactly the reply we
 * sent it last. One datagram spoofed from one echo server's address to another's bounces between them
 * for ever, and the per-source rate limit does not end it when the loop runs slower than the rate (a
 * slow or distant link). So after {@code --udp-loop-limit} identical replies in a row to one source, the
 * next identical datagram from it is refused — and with the one datagram in flight gone, the loop ends.
 *
 * <p>A client that sends one payload over and over, from one socket, loses one reply in
 * {@code limit + 1}; its retry is answered, since a refusal starts the count afresh (and a limit of 0
 * turns the rule off, for a test that needs every identical reply). The table keeps
 * the most recently answered {@link #MAX_SOURCES} sources, so spoofed sources cannot grow memory
 * without bound. Used by one receiving thread only, hence not synchronized.
 */
final class EchoLoopDetector {

    static final int MAX_SOURCES = 16_384;

    private final int maxRepeats;

    private final CRC32C crc = new CRC32C();
    private final Map<InetSocketAddress, LastReply> lastReplies = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetSocketAddress, LastReply> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    /** {@code maxRepeats}: identical replies in a row a source gets before the next is refused; 0 = never. */
    EchoLoopDetector(int maxRepeats) {
        this.maxRepeats = maxRepeats;
    }

    /** Length and CRC-32C of the datagram's remaining bytes: equal fingerprints mean an unchanged reply. */
    long fingerprint(ByteBuffer datagram) {
        crc.reset();
        crc.update(datagram.duplicate());
        return (long) datagram.remaining() << 32 | crc.getValue();
    }

    /** True if a datagram with this fingerprint would be our last reply to {@code source}, once too often. */
    boolean isLoop(InetSocketAddress source, long fingerprint) {
        if (maxRepeats == 0) {
            return false;
        }
        LastReply last = lastReplies.get(source);
        if (last == null || last.fingerprint != fingerprint || last.repeats < maxRepeats - 1) {
            return false;
        }
        lastReplies.remove(source); // the loop is broken; whatever the source sends next starts afresh
        return true;
    }

    /** Records that {@code source} is being answered with a datagram of this fingerprint. */
    void replying(InetSocketAddress source, long fingerprint) {
        if (maxRepeats == 0) {
            return;
        }
        LastReply last = lastReplies.get(source);
        if (last == null) {
            lastReplies.put(source, new LastReply(fingerprint));
        } else {
            last.repeats = last.fingerprint == fingerprint ? last.repeats + 1 : 0;
            last.fingerprint = fingerprint;
        }
    }

    private static final class LastReply {
        long fingerprint;
        /** How many replies in a row, after the first, were this same datagram. */
        int repeats;

        LastReply(long fingerprint) {
            this.fingerprint = fingerprint;
        }
    }
}
