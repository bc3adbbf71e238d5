package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.fault.Faults;
import org.junit.jupiter.api.Test;

class ReadBufferTest {

    @Test
    void startsSmallSoIdleConnectionsAreCheap() {
        assertEquals(256, new ReadBuffer(64 * 1024).capacity());
    }

    @Test
    void isDirectSoTheKernelReadsIntoItWithoutAnExtraCopy() {
        ReadBuffer buffer = new ReadBuffer(64 * 1024);
        assertTrue(buffer.forReading().isDirect());
        buffer.adapt(256);
        assertTrue(buffer.forReading().isDirect(), "a grown buffer too");
    }

    @Test
    void doublesWhenAReadFillsItUpToTheCap() {
        ReadBuffer buffer = new ReadBuffer(2048);
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
        ReadBuffer buffer = new ReadBuffer(64 * 1024);
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
        ReadBuffer buffer = new ReadBuffer(64 * 1024);
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
        ReadBuffer buffer = new ReadBuffer(64 * 1024);
        for (int i = 0; i < 10; i++) {
            buffer.adapt(1);
        }
        assertEquals(ReadBuffer.INITIAL_SIZE, buffer.capacity());
    }

    @Test
    void whileReadsArePacedEveryReadIsCappedTheFirstIncluded() {
        ReadBuffer buffer = new ReadBuffer(64 * 1024);
        assertEquals(10, buffer.forReading(Faults.NONE.withReadBandwidth(100)).remaining(), "a tenth of a second's worth");
        assertEquals(1, buffer.forReading(Faults.NONE.withReadBandwidth(3)).remaining(), "at least one byte");
        assertEquals(256, buffer.forReading(Faults.NONE.withReadBandwidth(1_000_000)).remaining(), "at most the buffer");
        assertEquals(256, buffer.forReading(Faults.NONE).remaining());
    }
}
