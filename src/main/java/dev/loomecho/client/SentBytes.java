package dev.loomecho.client;

/**
 * The bytes sent but not yet echoed, in a bounded ring: the sender {@link #add}s (and waits while the
 * ring is full, so memory stays bounded however much is streamed), the receiver {@link #match}es each
 * echoed byte against it. So a wrong echo is caught at its exact offset, without keeping the stream.
 *
 * <p>It also knows whether the receiver is owed anything — echoed bytes, or, once the input
 * {@link #ended}, the server's close — and since when, so the receiver can time out a server that owes
 * it something and sends nothing, without timing out one that is merely waiting for slow input.
 */
final class SentBytes {

    /** Where the echo first went wrong: a byte that differs, or one that was never sent. */
    record Mismatch(long offset, boolean neverSent) {
    }

    private final byte[] ring;
    private long added;
    private long matched;
    private boolean ended;
    /** When the receiver last made progress, or became owed something; meaningful while {@link #owed()}. */
    private long owedSince;

    SentBytes(int capacity) {
        this.ring = new byte[capacity];
    }

    /** Appends {@code length} bytes; blocks while the receiver is a whole ring behind. */
    synchronized void add(byte[] bytes, int offset, int length) throws InterruptedException {
        if (length > 0 && !owed()) {
            owedSince = System.nanoTime(); // the echo is due from now
        }
        for (int i = 0; i < length; i++) {
            while (added - matched == ring.length) {
                wait();
            }
            ring[(int) (added++ % ring.length)] = bytes[offset + i];
        }
        notifyAll();
    }

    /** The input is over: after the rest of the echo, the server's close is due. */
    synchronized void end() {
        if (!owed()) {
            owedSince = System.nanoTime();
        }
        ended = true;
    }

    synchronized boolean ended() {
        return ended;
    }

    /** Checks echoed bytes against what was sent. Returns null if they match, else where they do not. */
    synchronized Mismatch match(byte[] bytes, int offset, int length) {
        for (int i = 0; i < length; i++) {
            if (matched == added) {
                return new Mismatch(matched, true);
            }
            if (ring[(int) (matched % ring.length)] != bytes[offset + i]) {
                return new Mismatch(matched, false);
            }
            matched++;
        }
        if (length > 0) {
            owedSince = System.nanoTime();
        }
        notifyAll();
        return null;
    }

    /** How long the receiver has been owed something with nothing arriving, or -1 if it is owed nothing. */
    synchronized long owedForNanos(long now) {
        return owed() ? now - owedSince : -1;
    }

    private boolean owed() {
        return matched < added || ended;
    }

    synchronized long sent() {
        return added;
    }

    synchronized long echoed() {
        return matched;
    }
}
