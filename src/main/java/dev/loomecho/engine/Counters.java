package dev.loomecho.engine;

import java.util.concurrent.atomic.LongAdder;

/** The server's live counters; LongAdder because every engine thread bumps them on its hot path. */
final class Counters {
    final LongAdder accepted = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder idleClosed = new LongAdder();
    final LongAdder errors = new LongAdder();
}
