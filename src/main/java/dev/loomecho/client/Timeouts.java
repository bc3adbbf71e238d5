package dev.loomecho.client;

import java.time.Duration;

/** A timeout as the user typed it, for messages: {@code 5s}, {@code 500ms}. */
final class Timeouts {

    private Timeouts() {
    }

    static String describe(Duration timeout) {
        long millis = timeout.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /** A socket timeout: whole milliseconds, at least 1 (0 would mean "wait for ever"). */
    static int millis(Duration timeout) {
        return (int) Math.clamp(timeout.toMillis(), 1, Integer.MAX_VALUE);
    }
}
