package dev.loomecho.client;

/**
 * The bytes sent but not yet echoed, in a bounded ring: the sender {@link #add}s (and waits while the
 * ring is full, so memory stays bounded however much is streamed), the receiver {@link #match}es each
 * echoed byte against it. So a wrong echo is caught at its exact offset, without keeping the stream.
 */
final class SentBytes {

    private final byte[] ring;
    private long added;
    private long matched;

    SentBytes(int capacity) {
        this.ring = new byte[capacity];
    }

    /** Appends {@code length} bytes; blocks while the receiver is a whole ring behind. */
    synchronized void add(byte[] bytes, int offset, int length) throws InterruptedException {
        for (int i = 0; i < length; i++) {
            while (added - matched == ring.length) {
                wait();
            }
            ring[(int) (added++ % ring.length)] = bytes[offset + i];
        }
        notifyAll();
    }

    /**
     * Checks echoed bytes against what was sent. Returns -1 if they match, else the offset in the
     * stream of the first byte that differs, or of the first byte echoed that was never sent.
     */
    synchronized long match(byte[] bytes, int offset, int length) {
        for (int i = 0; i < length; i++) {
            if (matched == added || ring[(int) (matched % ring.length)] != bytes[offset + i]) {
                return matched;
            }
            matched++;
        }
        notifyAll();
        return -1;
    }

    synchronized long sent() {
        return added;
    }

    synchronized long echoed() {
        return matched;
    }
}
