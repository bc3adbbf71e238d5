package dev.loomecho.engine;

import dev.loomecho.engine.DirectMemory.Block;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's read buffers: direct memory, reused, bounded, and given back without waiting for a GC.
 *
 * <p>Buffers come in size classes — 256 B, then doubling up to {@code --buffer-size} — and a connection
 * trades its buffer for one of the next class when it grows or shrinks ({@link ReadBuffer}). Each class
 * keeps the buffers given back in a free list for the next taker. Every second {@link #trim()} frees the
 * buffers a class did not need during the last second (its free list's low-water mark), so what the pool
 * holds follows the connections served now: under steady traffic nothing is freed or allocated, and a
 * minute after a burst its memory is back with the OS.
 *
 * <p>The smallest class, where every idle connection sits, is cut from 64 KiB slabs: a slice costs 64 B of
 * heap and exactly 256 B of native memory, less than a direct buffer of its own, and needs no lock or
 * counter per I/O call. Slabs are never freed while the server runs; there are at most as many as the
 * most connections ever open at once need (256 connections a slab), so at most
 * {@code max-connections × 256 B}.
 *
 * <p>Native memory is capped below the JVM's own direct-memory limit ({@code -XX:MaxDirectMemorySize},
 * by default the maximum heap), so the pool never drives the JDK into its allocate-fails path, which
 * forces a full GC and sleeps up to half a second on the allocating thread. At the cap a connection
 * keeps the buffer it has (it is echoed in more, smaller reads) and a new connection is refused; the last
 * eighth of the cap is kept for new connections. Every such refusal counts as an allocation failure.
 *
 * <p>Thread-safe: one small lock per size class, taken when a connection opens, closes or changes class —
 * never per read or write.
 */
public final class BufferPool implements AutoCloseable {

    /** The smallest buffer: where every connection starts, and the least it shrinks to. */
    public static final int SMALLEST = 256;
    private static final int SLAB = 64 * 1024;
    /** After the JVM refused native memory, the pool allocates none for this long, so one stall is not repeated. */
    private static final long FAIL_FAST_NANOS = 1_000_000_000L;
    private static final Logger log = LoggerFactory.getLogger(BufferPool.class);

    private final DirectMemory memory;
    private final SizeClass[] classes;
    private final long limit;
    private final long growthLimit;
    /** Native bytes allocated and not yet freed: in use, in free lists, and slabs not yet cut. */
    private final AtomicLong held = new AtomicLong();
    private final LongAdder failures = new LongAdder();
    private final RateLimitedLog failureLog = new RateLimitedLog(log, Duration.ofSeconds(10));
    private volatile long failFastUntil;
    private volatile boolean closed;

    /** A pool for buffers up to {@code maxSize} bytes under the JVM's direct-memory limit. */
    public BufferPool(int maxSize) {
        this(maxSize, DirectMemory.best(), capFor(JvmLimit.MAX_DIRECT_MEMORY));
    }

    BufferPool(int maxSize, DirectMemory memory, long limit) {
        if (maxSize < SMALLEST * 2) {
            throw new IllegalArgumentException("largest buffer must be at least " + SMALLEST * 2 + " B, was " + maxSize);
        }
        this.memory = memory;
        this.limit = limit;
        this.growthLimit = limit - limit / 8;
        List<SizeClass> sizes = new ArrayList<>();
        sizes.add(new SmallestClass());
        for (long size = SMALLEST * 2L; ; size *= 2) {
            sizes.add(new SizeClass((int) Math.min(size, maxSize)));
            if (size >= maxSize) {
                break;
            }
        }
        this.classes = sizes.toArray(SizeClass[]::new);
    }

    /** The native memory the pool may hold: the JVM's direct-memory limit less an eighth (at least 1 MiB) for the rest of the JVM. */
    static long capFor(long maxDirectMemory) {
        long headroom = Math.max(maxDirectMemory / 8, 1 << 20);
        return maxDirectMemory > 2 * headroom ? maxDirectMemory - headroom : maxDirectMemory / 2;
    }

    /** The largest size class; class 0 is {@link #SMALLEST}. */
    int largestClass() {
        return classes.length - 1;
    }

    int sizeOf(int sizeClass) {
        return classes[sizeClass].size;
    }

    /**
     * A buffer of class {@code sizeClass}, or {@code null} if the pool is at its cap or the JVM refused
     * memory (counted, logged at most every 10 s). Never throws {@link OutOfMemoryError}.
     */
    Block take(int sizeClass) {
        SizeClass c = classes[sizeClass];
        Block block = c.poll();
        if (block != null) {
            return block;
        }
        block = c.allocate();
        if (block == null) {
            failures.increment();
        }
        return block;
    }

    /** Gives back a buffer {@link #take} handed out; the caller must not touch it again. */
    void give(Block block) {
        SizeClass c = classes[classOf(block.capacity())];
        if (closed && block.memory() != null) {
            c.dropInUse();
            free(block);
            return;
        }
        c.push(block);
    }

    private int classOf(int capacity) {
        if (capacity == classes[classes.length - 1].size) {
            return classes.length - 1; // the largest class may be no power of two (--buffer-size 100000)
        }
        int sizeClass = 31 - Integer.numberOfLeadingZeros(capacity / SMALLEST);
        return Math.min(sizeClass, classes.length - 1);
    }

    /** Frees what each class did not need since the last trim. Runs every second ({@link BufferTrimmer}). */
    public void trim() {
        for (SizeClass c : classes) {
            for (Block unused : c.takeUnused()) {
                free(unused);
            }
        }
    }

    /** What the pool holds now. */
    public Usage usage() {
        long inUse = 0;
        long pooled = 0;
        for (SizeClass c : classes) {
            synchronized (c) {
                inUse += (long) c.inUse * c.size;
                pooled += c.pooledBytes();
            }
        }
        return new Usage(inUse, pooled, failures.sum());
    }

    /**
     * The pool's native memory.
     *
     * @param bytesInUse  bytes of the buffers connections hold now
     * @param bytesPooled bytes allocated and free for the next connection that needs them
     * @param allocationFailures buffers not handed out because the cap was reached or the JVM had no memory
     */
    public record Usage(long bytesInUse, long bytesPooled, long allocationFailures) {
        public static final Usage NONE = new Usage(0, 0, 0);
    }

    /** Frees every buffer in a free list; buffers still in use are freed as they come back. */
    @Override
    public void close() {
        closed = true;
        for (SizeClass c : classes) {
            for (Block pooled : c.takeAll()) {
                free(pooled);
            }
        }
    }

    private void free(Block block) {
        held.addAndGet(-block.capacity());
        block.free();
    }

    /** Reserves {@code bytes} of the cap, freeing pooled buffers of other classes to make room if need be. */
    private boolean reserve(long bytes, long cap) {
        while (true) {
            long now = held.get();
            if (now + bytes > cap) {
                if (!reclaimPooled(now + bytes - cap)) {
                    return false;
                }
                continue;
            }
            if (held.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Frees pooled buffers, largest first, until {@code bytes} are freed; false if the free lists ran dry first. */
    private boolean reclaimPooled(long bytes) {
        long freed = 0;
        for (int i = classes.length - 1; i > 0 && freed < bytes; i--) {
            Block spare;
            while (freed < bytes && (spare = classes[i].pollSpare()) != null) {
                free(spare);
                freed += spare.capacity();
            }
        }
        return freed >= bytes;
    }

    /** Allocates from the JVM, within the cap; null and no exception when it cannot. */
    private Block allocate(int size, long cap) {
        if (System.nanoTime() - failFastUntil < 0 || !reserve(size, cap)) {
            logFailure(size, "the pool is at its cap or the JVM refused memory less than a second ago");
            return null;
        }
        try {
            return memory.allocate(size);
        } catch (OutOfMemoryError e) {
            refused(size, e);
            return null;
        }
    }

    /** The JVM had no memory although the cap allowed it (someone else in the JVM holds direct memory). */
    private void refused(int size, OutOfMemoryError e) {
        held.addAndGet(-size);
        failFastUntil = System.nanoTime() + FAIL_FAST_NANOS;
        logFailure(size, "the JVM refused it (" + e.getMessage() + "); allocating none for a second");
    }

    private synchronized void logFailure(int size, String why) {
        failureLog.warn("read buffers: a buffer could not be allocated ({} more not logged since the last report): "
                + "{} B, {}; the pool holds {} B of its {} B cap (a share of -XX:MaxDirectMemorySize)",
                size, why, held.get(), limit);
    }

    /** One size: a free list with its low-water mark since the last trim, and a count of buffers out. */
    private class SizeClass {
        final int size;
        private Block[] free = new Block[8];
        int count;
        int lowWater;
        int inUse;

        SizeClass(int size) {
            this.size = size;
        }

        synchronized Block poll() {
            if (count == 0) {
                return null;
            }
            Block block = free[--count];
            free[count] = null;
            lowWater = Math.min(lowWater, count);
            inUse++;
            return block;
        }

        /** A buffer from the free list for reclaiming: not handed out, so not counted as in use. */
        synchronized Block pollSpare() {
            Block block = poll();
            if (block != null) {
                inUse--;
            }
            return block;
        }

        Block allocate() {
            Block block = BufferPool.this.allocate(size, growthLimit);
            if (block != null) {
                synchronized (this) {
                    inUse++;
                }
            }
            return block;
        }

        synchronized void push(Block block) {
            if (count == free.length) {
                free = Arrays.copyOf(free, count * 2);
            }
            free[count++] = block;
            inUse--;
        }

        synchronized void dropInUse() {
            inUse--;
        }

        long pooledBytes() {
            return (long) count * size;
        }

        /** The buffers that stayed in the free list since the last call: nobody needed them. */
        synchronized List<Block> takeUnused() {
            List<Block> unused = new ArrayList<>(lowWater);
            while (lowWater > 0) {
                unused.add(free[--count]);
                free[count] = null;
                lowWater--;
            }
            lowWater = count;
            if (free.length > 8 && count < free.length / 4) {
                free = Arrays.copyOf(free, Math.max(8, free.length / 2));
            }
            return unused;
        }

        synchronized List<Block> takeAll() {
            List<Block> all = new ArrayList<>(Arrays.asList(free).subList(0, count));
            Arrays.fill(free, null);
            count = 0;
            lowWater = 0;
            return all;
        }
    }

    /** 256 B slices of 64 KiB slabs; never freed alone, so the trim and the close leave them be. */
    private final class SmallestClass extends SizeClass {
        private ByteBuffer slab;
        private int cut = SLAB;

        SmallestClass() {
            super(SMALLEST);
        }

        @Override
        synchronized Block allocate() {
            if (cut == SLAB) {
                if (System.nanoTime() - failFastUntil < 0 || !reserve(SLAB, limit)) {
                    logFailure(SLAB, "the pool is at its cap or the JVM refused memory less than a second ago");
                    return null;
                }
                try {
                    slab = ByteBuffer.allocateDirect(SLAB); // held until the pool is unreachable: see the class comment
                } catch (OutOfMemoryError e) {
                    refused(SLAB, e);
                    return null;
                }
                cut = 0;
            }
            ByteBuffer slice = slab.slice(cut, SMALLEST);
            cut += SMALLEST;
            inUse++;
            return new Block(slice, null);
        }

        @Override
        long pooledBytes() {
            return (long) count * size + (slab == null ? 0 : SLAB - cut);
        }

        @Override
        synchronized Block pollSpare() {
            return null;
        }

        @Override
        synchronized List<Block> takeUnused() {
            lowWater = count;
            return List.of();
        }

        @Override
        synchronized List<Block> takeAll() {
            return List.of();
        }
    }

    /** The JVM's direct-memory limit, read once: {@code -XX:MaxDirectMemorySize}, else the maximum heap. */
    static final class JvmLimit {
        static final long MAX_DIRECT_MEMORY = read();

        private JvmLimit() {
        }

        private static long read() {
            try {
                String value = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                        .getVMOption("MaxDirectMemorySize").getValue();
                long bytes = Long.parseLong(value);
                if (bytes > 0) {
                    return bytes;
                }
            } catch (RuntimeException | LinkageError notHotSpot) {
                // another VM, or jdk.management left out of the runtime: the JDK's own default applies
            }
            return Runtime.getRuntime().maxMemory();
        }
    }
}
