package dev.loomecho.engine;

import dev.loomecho.fault.Faults;
import dev.loomecho.fault.FaultyEcho;
import java.nio.ByteBuffer;

/**
 * A connection's read buffer, sized to its traffic: it starts at {@link #INITIAL_SIZE} so an idle
 * connection costs little, doubles whenever a read fills it (up to {@code --buffer-size}), and halves after
 * two reads in a row that used less than a quarter of it. Netty's adaptive receive allocator works the
 * same way.
 *
 * <p>The buffer is direct (outside the heap): the kernel reads into it and writes the echo from it as it
 * is. A heap buffer would be copied through a temporary direct buffer on every read and every write —
 * two extra copies of each 64 KiB of a bulk echo.
 */
public final class ReadBuffer {

    /** Where every connection's buffer starts, and the least it shrinks to: a small message fits at once. */
    public static final int INITIAL_SIZE = 256;

    private final int maxSize;
    private ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_SIZE);
    private int smallReads;

    public ReadBuffer(int maxSize) {
        this.maxSize = maxSize;
    }

    /** The buffer to read into next, cleared. Call only when the previous contents have been written. */
    public ByteBuffer forReading() {
        buffer.clear();
        return buffer;
    }

    /**
     * {@link #forReading()} for a connection under {@code faults}: while its reads are paced, capped to
     * what one paced read may take ({@link FaultyEcho#readCap}), from the connection's first read on.
     */
    public ByteBuffer forReading(Faults faults) {
        buffer.clear();
        if (faults.readBandwidth() > 0) {
            buffer.limit(Math.min(FaultyEcho.readCap(faults.readBandwidth()), buffer.capacity()));
        }
        return buffer;
    }

    /** Adjusts the size after a read of {@code n} bytes whose echo has been fully written. */
    public void adapt(int n) {
        int capacity = buffer.capacity();
        if (n == capacity && capacity < maxSize) {
            buffer = ByteBuffer.allocateDirect(Math.min(capacity * 2, maxSize));
            smallReads = 0;
        } else if (n < capacity / 4 && capacity > INITIAL_SIZE) {
            if (++smallReads == 2) {
                buffer = ByteBuffer.allocateDirect(Math.max(capacity / 2, INITIAL_SIZE));
                smallReads = 0;
            }
        } else {
            smallReads = 0;
        }
    }

    public int capacity() {
        return buffer.capacity();
    }
}
