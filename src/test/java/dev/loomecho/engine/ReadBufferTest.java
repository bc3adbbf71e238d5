package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.fault.Faults;
import org.junit.jupiter.api.Test;

class ReadBufferTest {

    @Test
    void startsSmallSoIdleConnectionsAreCheap() {
        assertEquals(256, ReadBuffer.open(new BufferPool(64 * 1024)).capacity());
    }

    @Test
    void isDirectSoTheKernelReadsIntoItWithoutAnExtraCopy() {
        ReadBuffer buffer = ReadBuffer.open(new BufferPool(64 * 1024));
        assertTrue(buffer.forReading(Faults.NONE).isDirect());
        buffer.adapt(256);
        assertTrue(buffer.forReading(Faults.NONE).isDirect(), "a grown buffer too");
    }

    @Test
    void doublesWhenAReadFillsItUpToTheCap() {
        ReadBuffer buffer = ReadBuffer.open(new BufferPool(2048));
        buffer.adapt(256);
        assertEquals(512, buffer.capacity());
        buffer.adapt(512);
        assertEquals(1024, buffer.capacity());
        buffer.adapt(1024);
        assertEquals(2048, buffer.capacity());
        buffer.adapt(2048);
        assertEquals(2048, buffer.capacity(), "never above the configured cap");
    }

    @Test
    void halvesOnlyAfterTwoSmallReadsInARow() {
        ReadBuffer buffer = ReadBuffer.open(new BufferPool(64 * 1024));
        buffer.adapt(256);
        buffer.adapt(512);
        buffer.adapt(1024);
        assertEquals(2048, buffer.capacity());
        buffer.adapt(10);
        assertEquals(2048, buffer.capacity(), "one small read is not a trend");
        buffer.adapt(10);
        assertEquals(1024, buffer.capacity());
    }

    @Test
    void aMediumReadResetsTheShrinkVote() {
        ReadBuffer buffer = ReadBuffer.open(new BufferPool(64 * 1024));
        buffer.adapt(256);
        buffer.adapt(512);
        buffer.adapt(1024);
        buffer.adapt(10);
        buffer.adapt(1500);
        buffer.adapt(10);
        assertEquals(2048, buffer.capacity());
    }

    @Test
    void neverShrinksBelowTheStartingSize() {
        ReadBuffer buffer = ReadBuffer.open(new BufferPool(64 * 1024));
        for (int i = 0; i < 10; i++) {
            buffer.adapt(1);
        }
        assertEquals(ReadBuffer.INITIAL_SIZE, buffer.capacity());
    }

    @Test
    void growsThroughTheSizeClassesUpToAnOddSizedCap() {
        ReadBuffer buffer = ReadBuffer.open(new BufferPool(100_000));
        for (int size = 256; size < 65_536; size *= 2) {
            buffer.adapt(size);
        }
        assertEquals(65_536, buffer.capacity());
        buffer.adapt(65_536);
        assertEquals(100_000, buffer.capacity(), "the largest class is --buffer-size itself");
        buffer.adapt(10);
        buffer.adapt(10);
        assertEquals(65_536, buffer.capacity(), "and shrinks back into the classes");
    }

    @Test
    void keepsItsBufferWhenThePoolHasNoneToGrowInto() {
        BufferPool pool = new BufferPool(64 * 1024, DirectMemory.best(), 64 * 1024 + 8 * 1024);
        ReadBuffer buffer = ReadBuffer.open(pool);
        buffer.adapt(256);
        assertEquals(256, buffer.capacity(), "the 64 KiB slab leaves no room below the growth cap");
        assertEquals(1, pool.usage().allocationFailures());
        assertEquals(256, buffer.forReading(Faults.NONE).remaining(), "and reads go on into the buffer it has");
    }

    @Test
    void releasingGivesTheBufferBackOnceOnly() {
        BufferPool pool = new BufferPool(64 * 1024);
        ReadBuffer buffer = ReadBuffer.open(pool);
        buffer.adapt(256);
        assertEquals(512, pool.usage().bytesInUse());
        buffer.release();
        buffer.release();
        assertEquals(0, pool.usage().bytesInUse());
        assertEquals(64 * 1024 + 512, pool.usage().bytesPooled(), "the slab and the 512 B buffer, nothing counted twice");
    }

    @Test
    void whileReadsArePacedEveryReadIsCappedTheFirstIncluded() {
        ReadBuffer buffer = ReadBuffer.open(new BufferPool(64 * 1024));
        assertEquals(10, buffer.forReading(Faults.NONE.withReadBandwidth(100)).remaining(), "a tenth of a second's worth");
        assertEquals(1, buffer.forReading(Faults.NONE.withReadBandwidth(3)).remaining(), "at least one byte");
        assertEquals(256, buffer.forReading(Faults.NONE.withReadBandwidth(1_000_000)).remaining(), "at most the buffer");
        assertEquals(256, buffer.forReading(Faults.NONE).remaining());
    }
}
