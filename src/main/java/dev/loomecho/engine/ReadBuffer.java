package dev.loomecho.engine;

import dev.loomecho.engine.DirectMemory.Block;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.FaultyEcho;
import java.nio.ByteBuffer;

/**
 * A connection's read buffer, sized to its traffic: it starts at {@link #INITIAL_SIZE} so an idle
 * connection costs little, doubles whenever a read fills it (up to {@code --buffer-size}), and halves after
 * two reads in a row that used less than a quarter of it. Netty's adaptive receive allocator works the
 * same way. Each change of size trades the buffer for one of the {@link BufferPool}'s; if the pool has
 * none to give, the connection keeps the one it has, and is echoed in smaller reads.
 *
 * <p>The buffer is direct (outside the heap): the kernel reads into it and writes the echo from it as it
 * is. A heap buffer would be copied through a temporary direct buffer on every read and every write —
 * two extra copies of each 64 KiB of a bulk echo.
 *
 * <p>Owned by whatever serves the connection: only its thread (or its chain of handlers) reads into it,
 * and it calls {@link #release()} once it will not touch the buffer again.
 */
public final class ReadBuffer {

    /** Where every connection's buffer starts, and the least it shrinks to: a small message fits at once. */
    public static final int INITIAL_SIZE = BufferPool.SMALLEST;

    private final BufferPool pool;
    private Connection connection; // set once, by the connection the buffer belongs to
    private Block block;
    private int sizeClass;
    private int smallReads;

    private ReadBuffer(BufferPool pool) {
        this.pool = pool;
    }

    /** A new connection's buffer, or {@code null} if the pool has not even the smallest to give. */
    static ReadBuffer open(BufferPool pool) {
        ReadBuffer readBuffer = new ReadBuffer(pool); // first: if the heap has no room for it, nothing is taken yet
        readBuffer.block = pool.take(0);
        return readBuffer.block == null ? null : readBuffer;
    }

    /** Called once, by the connection the buffer belongs to, as it is made. */
    void attach(Connection owner) {
        this.connection = owner;
    }

    /**
     * The buffer to read into next, cleared. Call only when the previous contents have been written.
     * While the connection's reads are paced ({@code --read-bandwidth}, fault injection) it is capped to
     * what one paced read may take ({@link FaultyEcho#readCap}), from the connection's first read on.
     */
    public ByteBuffer forReading() {
        return forReading(connection.faults());
    }

    /** {@link #forReading()} under {@code faults}. */
    ByteBuffer forReading(Faults faults) {
        ByteBuffer buffer = block.buffer();
        buffer.clear();
        if (faults.readBandwidth() > 0) {
            buffer.limit(Math.min(FaultyEcho.readCap(faults.readBandwidth()), buffer.capacity()));
        }
        return buffer;
    }

    /** Adjusts the size after a read of {@code n} bytes whose echo has been fully written. */
    public void adapt(int n) {
        int capacity = block.capacity();
        if (n == capacity && sizeClass < pool.largestClass()) {
            resize(sizeClass + 1);
            smallReads = 0;
        } else if (n < capacity / 4 && sizeClass > 0) {
            if (++smallReads == 2) {
                resize(sizeClass - 1);
                smallReads = 0;
            }
        } else {
            smallReads = 0;
        }
    }

    private void resize(int to) {
        Block next = pool.take(to);
        if (next != null) {
            Block previous = block; // the new one is ours before the old one goes: nothing is lost in between
            block = next;
            sizeClass = to;
            pool.give(previous);
        }
    }

    public int capacity() {
        return block.capacity();
    }

    /**
     * Gives the buffer back to the pool. Call once the connection is closed and no read or write of it
     * can still be using the buffer; calling again does nothing.
     */
    public void release() {
        if (block != null) {
            pool.give(block);
            block = null;
        }
    }
}
