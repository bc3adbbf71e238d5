package dev.loomecho.udp;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * Spots another echo server at the other end: a source that keeps sending back a reply we sent it.
 * Datagrams spoofed from one echo server's address to another's bounce between them for ever, and the
 * per-source rate limit does not end that when the loop runs slower than the rate (a slow or distant
 * link). However many datagrams are in flight, each one comes back as the reply it got. So the detector
 * counts, for each reply it remembers, how often that same payload went to that same source: once
 * {@code --udp-loop-limit} times, the next one is refused, and forgotten. Every datagram of a loop is
 * thus bounced at most {@code limit} times, and a loop of any size ends; a fresh datagram injected into
 * it (it joins the loop) buys only another {@code limit} bounces.
 *
 * <p>It remembers the last {@link #CAPACITY} replies across all sources, in fixed arrays: memory does
 * not grow with sources or traffic, spoofed or not. A loop escapes only if more than that many other
 * replies pass between two bounces of one of its datagrams. A client that sends one payload over and
 * over from one socket loses one reply of it in {@code limit + 1}, and its retry is answered (the
 * refused payload is forgotten); payloads it does not repeat are never refused. A limit of 0 turns the
 * rule off, for a test that needs every repeated reply. Used by one receiving thread only, hence not
 * synchronized.
 */
final class EchoLoopDetector {

    /** Replies remembered, the most recent across all sources. */
    static final int CAPACITY = 16_384;

    private final int maxRepeats;
    private final CRC32C crc = new CRC32C();
    /** Mixed into every key: no one can aim a key collision at another client's replies. */
    private final long secret = ThreadLocalRandom.current().nextLong();

    /** The key of each of the last replies, in a ring: {@code next} is overwritten by the next reply. */
    private final long[] history;
    private int next;
    private int recorded;
    /**
     * Each remembered (source, payload) key, in an open-addressing table (linear probing, never more
     * than half full, 0 = empty), with its value: its latest reply's slot in {@code history}, and how
     * many times it was answered since it was last refused or fell out of the history.
     */
    private final long[] keys;
    private final long[] values;
    private final int mask;
    private int size;

    /** {@code maxRepeats}: times one payload is answered to one source before the next is refused; 0 = never. */
    EchoLoopDetector(int maxRepeats) {
        this.maxRepeats = maxRepeats;
        int capacity = maxRepeats == 0 ? 0 : CAPACITY;
        this.history = new long[capacity];
        this.keys = new long[2 * capacity];
        this.values = new long[2 * capacity];
        this.mask = 2 * capacity - 1;
    }

    /** Length and CRC-32C of the datagram's remaining bytes: equal fingerprints mean an unchanged reply. */
    long fingerprint(ByteBuffer datagram) {
        crc.reset();
        crc.update(datagram.duplicate());
        return (long) datagram.remaining() << 32 | crc.getValue();
    }

    /** True if a datagram with this fingerprint would be answered to {@code source} once too often. */
    boolean isLoop(InetSocketAddress source, long fingerprint) {
        if (maxRepeats == 0) {
            return false;
        }
        int i = find(key(source, fingerprint));
        if (i < 0 || answered(values[i]) < maxRepeats) {
            return false;
        }
        // This datagram leaves the loop; the same payload again (a client's retry) is new to us, and answered.
        remove(i);
        return true;
    }

    /** Records that {@code source} is being answered with a datagram of this fingerprint. */
    void replying(InetSocketAddress source, long fingerprint) {
        if (maxRepeats == 0) {
            return;
        }
        if (recorded == history.length) { // the oldest reply leaves the history: forget it, unless repeated since
            int oldest = find(history[next]);
            if (oldest >= 0 && slot(values[oldest]) == next) {
                remove(oldest);
            }
        } else {
            recorded++;
        }
        long key = key(source, fingerprint);
        int i = find(key);
        if (i >= 0) {
            values[i] = value(next, answered(values[i]) + 1);
        } else {
            insert(key, value(next, 1));
        }
        history[next] = key;
        next = (next + 1) % history.length;
    }

    /** How many (source, payload) pairs are remembered now: never more than {@link #CAPACITY}. */
    int remembered() {
        return size;
    }

    private long key(InetSocketAddress source, long fingerprint) {
        long key = mix(mix(mix(secret ^ source.getAddress().hashCode()) ^ source.getPort()) ^ fingerprint);
        return key == 0 ? 1 : key; // 0 marks an empty slot
    }

    /** A 64-bit finalizer (SplittableRandom's): every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static long value(int slot, long answered) {
        return (long) slot << 32 | answered;
    }

    private static int slot(long value) {
        return (int) (value >>> 32);
    }

    private static long answered(long value) {
        return value & 0xFFFF_FFFFL;
    }

    private int home(long key) {
        return (int) key & mask;
    }

    private int find(long key) {
        for (int i = home(key); keys[i] != 0; i = (i + 1) & mask) {
            if (keys[i] == key) {
                return i;
            }
        }
        return -1;
    }

    private void insert(long key, long value) {
        int i = home(key);
        while (keys[i] != 0) {
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
    }

    /** Empties slot {@code i}, moving later keys of its probe run back so that every key stays findable. */
    private void remove(int i) {
        int hole = i;
        for (int j = (i + 1) & mask; keys[j] != 0; j = (j + 1) & mask) {
            // The key at j may fill the hole if the hole lies on its probe path: from its home up to j.
            if (((j - home(keys[j])) & mask) >= ((j - hole) & mask)) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = 0;
        values[hole] = 0;
        size--;
    }
}
