package dev.loomecho.engine;

import java.util.concurrent.atomic.LongAdder;

/**
 * One listener's live counters (the plain one's, or the TLS one's); LongAdder because every engine
 * thread bumps them on its hot path. Each connection bumps its own listener's, so the TLS share costs
 * nothing per byte; the totals are summed when read.
 */
final class Counters {
    final LongAdder accepted = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder idleClosed = new LongAdder();
    final LongAdder errors = new LongAdder();
    /** Live connections of this listener (the server's live set holds both; its size is the total). */
    final LongAdder active = new LongAdder();
    /** TLS only: handshakes that failed. */
    final LongAdder handshakeFailures = new LongAdder();
}
