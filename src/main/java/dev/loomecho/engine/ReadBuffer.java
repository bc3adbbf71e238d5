package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import java.nio.ByteBuffer;

/**
 * A connection's read buffer, sized to its traffic: it starts at {@link ServerConfig#MIN_BUFFER_SIZE}
 * so an idle connection costs half a KiB, doubles whenever a read fills it, and halves after two reads
 * in a row that used less than a quarter of it. Netty's adaptive receive allocator works the same way.
 */
public final class ReadBuffer {

    private final int maxSize;
    private ByteBuffer buffer = ByteBuffer.allocate(ServerConfig.MIN_BUFFER_SIZE);
    private int smallReads;
    /** A lower limit for the next read only, set by read pacing; 0 = the whole buffer. */
    private int nextReadLimit;

    public ReadBuffer(int maxSize) {
        this.maxSize = maxSize;
    }

    /** The buffer to read into next, cleared. Call only when the previous contents have been written. */
    public ByteBuffer forReading() {
        buffer.clear();
        if (nextReadLimit > 0) {
            buffer.limit(Math.min(nextReadLimit, buffer.capacity()));
            nextReadLimit = 0;
        }
        return buffer;
    }

    /** Lets the next read (only the next) take at most {@code bytes}; the read-bandwidth fault's pacing uses it. */
    public void limitNextRead(int bytes) {
        nextReadLimit = bytes;
    }

    /** Adjusts the size after a read of {@code n} bytes whose echo has been fully written. */
    public void adapt(int n) {
        int capacity = buffer.capacity();
        if (n == capacity && capacity < maxSize) {
            buffer = ByteBuffer.allocate(Math.min(capacity * 2, maxSize));
            smallReads = 0;
        } else if (n < capacity / 4 && capacity > ServerConfig.MIN_BUFFER_SIZE) {
            if (++smallReads == 2) {
                buffer = ByteBuffer.allocate(Math.max(capacity / 2, ServerConfig.MIN_BUFFER_SIZE));
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
