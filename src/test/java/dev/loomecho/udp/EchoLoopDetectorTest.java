package dev.loomecho.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EchoLoopDetectorTest {

    /**
     * The detector's fixed-size table against the rule written plainly: a (source, payload) pair is a
     * loop once answered {@code limit} times since it was last refused or its latest reply fell out of
     * the last {@link EchoLoopDetector#CAPACITY} replies. Random traffic over more pairs than the
     * capacity, so pairs age out, are refused, come back, and collide in the table.
     */
    @Test
    void decidesAsThePlainRuleDoesOverLongRandomTraffic() {
        int limit = 3;
        EchoLoopDetector detector = new EchoLoopDetector(limit);
        Map<Long, long[]> model = new HashMap<>(); // pair -> {latest reply's number, times answered}
        ArrayDeque<Long> history = new ArrayDeque<>();
        InetSocketAddress[] sources = new InetSocketAddress[64];
        for (int i = 0; i < sources.length; i++) {
            sources[i] = new InetSocketAddress("192.0.2." + i, 40_000 + i % 3);
        }
        SplittableRandom random = new SplittableRandom(17);
        long replies = 0;
        int refusals = 0;
        for (int step = 0; step < 400_000; step++) {
            int source = random.nextInt(sources.length);
            // mostly a small set of payloads per source (repeats), sometimes many (the table fills, pairs age out)
            long fingerprint = random.nextInt(4) == 0 ? random.nextLong(2_000) : random.nextLong(4);
            long pair = (long) source << 32 | fingerprint;
            long[] state = model.get(pair);
            boolean loop = state != null && state[1] >= limit;
            assertEquals(loop, detector.isLoop(sources[source], fingerprint), "step " + step);
            if (loop) {
                model.remove(pair);
                refusals++;
                continue;
            }
            if (history.size() == EchoLoopDetector.CAPACITY) {
                long oldest = history.removeFirst();
                long[] aged = model.get(oldest);
                if (aged != null && aged[0] == replies - EchoLoopDetector.CAPACITY) {
                    model.remove(oldest);
                }
            }
            detector.replying(sources[source], fingerprint);
            model.computeIfAbsent(pair, p -> new long[2]);
            model.get(pair)[0] = replies++;
            model.get(pair)[1]++;
            history.addLast(pair);
            assertEquals(model.size(), detector.remembered(), "step " + step);
        }
        assertTrue(refusals > 1_000, "the traffic hardly exercised refusals: " + refusals);
        assertTrue(replies > 2 * EchoLoopDetector.CAPACITY, "the history never wrapped");
    }

    @Test
    void aLimitOfZeroKeepsNothing() {
        EchoLoopDetector off = new EchoLoopDetector(0);
        InetSocketAddress source = new InetSocketAddress("192.0.2.1", 40_000);
        for (int i = 0; i < 1_000; i++) {
            off.replying(source, 42);
            assertFalse(off.isLoop(source, 42));
        }
        assertEquals(0, off.remembered());
    }
}
