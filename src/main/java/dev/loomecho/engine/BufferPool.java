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
 * <p>A buffer whose native memory the JDK holds cannot be freed: its arena refuses to close (see
 * {@code ArenaMemory}: an asynchronous read or write that failed leaves it acquired for good, and the
 * completion and future engines meet that at every reset or close under a pending read). The engines give
 * a buffer back only when no I/O of theirs can touch it, so the hold is a count, not a use: such a buffer
 * stays in its free list, is handed out again before any other of its class, and is never tried again.
 * It leaves the cap, which bounds what the pool can free, so it starves no other class; there are at most
 * as many of a class as the most buffers of that class in use at once, since a new one is held only when
 * every held one is out.
 *
 * <p>Thread-safe: one small lock per size class, taken when a connection opens, closes or changes class —
 * never per read or write. Giving a buffer back allocates nothing, so it cannot fail for want of heap: each
 * free list always has room for every buffer of its class that is out.
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
    /** Not 0: {@code System.nanoTime()} may be negative, and must not start out "less than a second ago". */
    private volatile long failFastUntil = System.nanoTime() - 1;
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
     * memory, native or heap (counted, logged at most every 10 s). Never throws {@link OutOfMemoryError}.
     */
    Block take(int sizeClass) {
        SizeClass c = classes[sizeClass];
        Block block = c.poll();
        if (block != null) {
            return block;
        }
        try {
            block = c.allocate();
        } catch (OutOfMemoryError heap) { // growing a free list, or a slab's slice: nothing was taken
            block = null;
        }
        if (block == null) {
            failures.increment();
        }
        return block;
    }

    /**
     * Gives back a buffer {@link #take} handed out, once no I/O can use it any more (a read or write still
     * in flight could otherwise land in another connection's buffer); the caller must not touch it again.
     */
    void give(Block block) {
        SizeClass c = classes[classOf(block.capacity())];
        if (closed && block.memory() != null) {
            c.dropInUse();
            if (!free(block)) {
                heldAtClose(1, block.capacity());
            }
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

    /**
     * Frees what each class did not need since the last trim; a buffer the JDK holds goes back to its free
     * list, for good. Runs every second ({@link BufferTrimmer}).
     */
    public void trim() {
        for (SizeClass c : classes) {
            for (Block block : c.takeUnused()) {
                freeOrKeep(c, block);
            }
        }
    }

    /** Frees a block taken out of {@code c}'s free list, or, if the JDK holds it, puts it back as held; true if freed. */
    private boolean freeOrKeep(SizeClass c, Block block) {
        if (free(block)) {
            c.freed();
            return true;
        }
        held.addAndGet(-block.capacity()); // out of the cap: the pool can never free it while it runs
        c.keepHeld(block);
        log.debug("read buffers: {} B could not be freed because the JDK holds them (an asynchronous read or "
                + "write that failed keeps its hold on a buffer for good); pooled for reuse", block.capacity());
        return false;
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
            int notFreed = 0;
            for (Block block : c.takeAll()) {
                if (!free(block)) {
                    notFreed++;
                }
            }
            if (notFreed > 0) {
                heldAtClose(notFreed, c.size);
            }
        }
    }

    /** After the close nothing reuses a buffer the JDK holds: it is left to the JVM, which frees it at exit. */
    private void heldAtClose(int count, int size) {
        log.warn("read buffers: {} of {} B not freed at close: the JDK still holds them", count, size);
    }

    /** Frees the block's memory and un-counts it from the cap; false, with nothing changed, while the JDK holds it. */
    private boolean free(Block block) {
        if (!block.free()) {
            return false;
        }
        if (!block.heldByJdk) { // a held one left the cap when it was found held
            held.addAndGet(-block.capacity());
        }
        return true;
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

    /**
     * Frees pooled buffers, largest first, until {@code bytes} of the cap are free again; false if the free
     * lists ran dry first. One the JDK turns out to hold leaves the cap as well; none already known to be
     * held is tried again.
     */
    private boolean reclaimPooled(long bytes) {
        long freed = 0;
        for (int i = classes.length - 1; i > 0 && freed < bytes; i--) {
            Block spare;
            while (freed < bytes && (spare = classes[i].pollSpare()) != null) {
                freeOrKeep(classes[i], spare);
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
        } catch (RuntimeException e) {
            held.addAndGet(-size); // nothing was allocated: the reservation must not stay counted
            throw e;
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

    /**
     * One size: a free list with its low-water mark since the last trim, and a count of buffers out. The
     * free list's bottom {@code held} entries are buffers the JDK holds, handed out first and never freed;
     * above them, the buffers the trim may free. The array always has room for every buffer of the class
     * that is out, in use or being trimmed, so that giving one back or keeping a held one never allocates.
     */
    private class SizeClass {
        final int size;
        private Block[] free = new Block[8];
        int count;
        int held;
        /** The fewest freeable buffers ({@code count - held}) since the last trim: nobody needed those. */
        int lowWater;
        int inUse;
        /** Taken out by the trim or a reclaim, not yet freed or put back. */
        int trimming;

        SizeClass(int size) {
            this.size = size;
        }

        synchronized Block poll() {
            Block block;
            if (held > 0) {
                block = free[--held];
                free[held] = free[--count]; // the top freeable one fills the gap (itself, if none is left)
                free[count] = null;
            } else if (count > 0) {
                block = free[--count];
                free[count] = null;
                lowWater = Math.min(lowWater, count);
            } else {
                return null;
            }
            inUse++;
            return block;
        }

        /**
         * Counts one more buffer out, first making sure the free list could take it back: so that
         * {@link #push} never allocates. Throws {@link OutOfMemoryError}, with nothing changed, when the
         * heap has no room for that.
         */
        synchronized void reserveOne() {
            if (count + inUse + trimming >= free.length) {
                free = Arrays.copyOf(free, free.length * 2);
            }
            inUse++;
        }

        /** A freeable buffer from the free list, to free for room under the cap; never a held one. */
        synchronized Block pollSpare() {
            if (count == held) {
                return null;
            }
            Block block = free[--count];
            free[count] = null;
            lowWater = Math.min(lowWater, count - held);
            trimming++;
            return block;
        }

        /** A new buffer, counted as out; null, and nothing counted, if none can be had. */
        final Block allocate() {
            reserveOne();
            Block block = null;
            try {
                block = newBlock();
            } finally {
                if (block == null) {
                    dropInUse();
                }
            }
            return block;
        }

        Block newBlock() {
            return BufferPool.this.allocate(size, growthLimit);
        }

        /** A buffer given back; there is always room for it ({@link #reserveOne}). */
        synchronized void push(Block block) {
            if (block.heldByJdk) {
                free[count] = free[held]; // the bottom freeable one moves up (nowhere, if there is none)
                free[held++] = block;
            } else {
                free[count] = block;
            }
            count++;
            inUse--;
        }

        /** A buffer the trim or a reclaim took out has been freed. */
        synchronized void freed() {
            trimming--;
        }

        /** A buffer the trim or a reclaim took out could not be freed: the JDK holds it, so it stays, held. */
        synchronized void keepHeld(Block block) {
            block.heldByJdk = true;
            trimming--;
            inUse++; // push counts it back in
            push(block);
        }

        synchronized void dropInUse() {
            inUse--;
        }

        long pooledBytes() {
            return (long) count * size;
        }

        /** The freeable buffers that stayed in the free list since the last call: nobody needed them. */
        synchronized List<Block> takeUnused() {
            // Both allocations first: if the heap has no room, nothing is taken. Taking out for the trim
            // leaves count + inUse + trimming as it is, so the shrink may come before it.
            List<Block> unused = new ArrayList<>(lowWater);
            if (free.length > 8 && count + inUse + trimming < free.length / 4) {
                free = Arrays.copyOf(free, Math.max(8, free.length / 2));
            }
            while (lowWater > 0) {
                unused.add(free[--count]);
                free[count] = null;
                lowWater--;
                trimming++;
            }
            lowWater = count - held;
            return unused;
        }

        /** Everything in the free list, for the close. */
        synchronized List<Block> takeAll() {
            List<Block> all = new ArrayList<>(Arrays.asList(free).subList(0, count));
            Arrays.fill(free, null);
            count = 0;
            held = 0;
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

        /** The next slice of the slab, allocating a slab first if the last one is all cut; null if none can be had. */
        @Override
        synchronized Block newBlock() {
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
            Block slice = new Block(slab.slice(cut, SMALLEST), null);
            cut += SMALLEST; // only once the slice exists: a failure above wastes none of the slab
            return slice;
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
