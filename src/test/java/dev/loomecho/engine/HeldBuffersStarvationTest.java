package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.loomecho.engine.DirectMemory.Block;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Buffers the JDK holds for good: on the completion and future engines every reset or close under a
 * pending read leaves its buffer's arena acquired, so the pool can never free it. Before, such buffers
 * stayed under the cap: once they filled it no other class could be allocated again, and since a
 * connection grows one class at a time, none could reach the class they sat in — every later connection
 * was read 256 B at a time with no connection open. And every refused growth walked every held buffer
 * again, an exception each, on the I/O thread.
 */
class HeldBuffersStarvationTest {

    private static final int KIB_64 = 64 * 1024;
    private static final int CLASS_64_KIB = 8;
    private static final long CAP = 1 << 20;

    /** Memory that, like an arena after a failed asynchronous read, never lets go; counts the attempts per buffer. */
    private static final class HeldForGood implements DirectMemory {
        final List<AtomicInteger> freeAttempts = new ArrayList<>();

        @Override
        public synchronized Block allocate(int size) {
            AtomicInteger attempts = new AtomicInteger();
            freeAttempts.add(attempts);
            return new Block(ByteBuffer.allocate(size), () -> { // heap: nothing for a GC to clean up behind other tests
                attempts.incrementAndGet();
                return false;
            });
        }

        synchronized int mostAttemptsOnOneBuffer() {
            return freeAttempts.stream().mapToInt(AtomicInteger::get).max().orElse(0);
        }
    }

    /** Connections that grew to 64 KiB until the cap refused one more, then were reset. */
    private static List<Block> fillTheCapAndGiveBack(BufferPool pool) {
        List<Block> grown = new ArrayList<>();
        Block block;
        while ((block = pool.take(CLASS_64_KIB)) != null) {
            grown.add(block);
        }
        grown.forEach(pool::give);
        return grown;
    }

    @Test
    void buffersTheJdkHoldsDoNotStarveTheOtherClasses() {
        try (BufferPool pool = new BufferPool(KIB_64, new HeldForGood(), CAP)) {
            fillTheCapAndGiveBack(pool);
            pool.trim();
            pool.trim(); // unused for a whole interval: the trim finds every one held
            assertEquals(0, pool.usage().bytesInUse(), "no connection is open");
            assertNotNull(pool.take(1), "a new connection can grow past 256 B: "
                    + pool.usage().bytesPooled() + " B are held in the 64 KiB class");
        }
    }

    @Test
    void aBufferFoundHeldIsNeverTriedAgainAndIsReusedFirst() {
        HeldForGood memory = new HeldForGood();
        try (BufferPool pool = new BufferPool(KIB_64, memory, CAP)) {
            List<Block> grown = fillTheCapAndGiveBack(pool);
            pool.trim();
            pool.trim();
            assertEquals(1, memory.mostAttemptsOnOneBuffer(), "each tried once, by the trim");
            for (int i = 0; i < 100; i++) { // growths, trims and reclaims that once retried every held buffer
                Block small = pool.take(1 + i % 7);
                pool.trim();
                if (small != null) {
                    pool.give(small);
                }
            }
            Block reused = pool.take(CLASS_64_KIB);
            assertEquals(true, grown.contains(reused), "a held buffer is handed out before a new one is allocated");
            pool.give(reused);
            pool.trim();
            pool.trim();
            assertEquals(1, memory.mostAttemptsOnOneBuffer(), "a held buffer is never tried again");
        }
    }
}
