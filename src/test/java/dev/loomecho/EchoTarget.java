package dev.loomecho;

import java.io.IOException;
import java.util.Optional;

/**
 * Anything {@link WireConformanceTest} can talk to over a socket: an engine in this JVM, a loom-echo
 * process on another JDK, a seed's Winsock server under Wine, the same over TLS. The suite sees only what a
 * client sees, plus the server's counters where the target has them.
 */
public interface EchoTarget {

    /** Starts a fresh server for one test; {@code limits} are requests a target with fixed limits ignores. */
    Running start(Limits limits) throws Exception;

    /** Why this target cannot do {@code feature}, or empty if it can; the suite skips the test with the reason. */
    default Optional<String> lacks(Feature feature) {
        return Optional.empty();
    }

    /** One started server. Closing it stops the server and releases everything it held. */
    interface Running extends AutoCloseable {

        /** A new client connection to it, with every read bounded by a timeout. */
        TestClient connect() throws IOException;

        /** How many connections it serves at once: {@code limits.maxConnections()}, or its model's own limit. */
        int capacity();

        /** Its counters, where the target has them (an engine in this JVM), so the suite can check the server side too. */
        default Optional<Stats> stats() {
            return Optional.empty();
        }

        @Override
        void close() throws Exception;
    }

    /** Requests for a test's server: how many connections at once, and the largest read buffer. */
    record Limits(int maxConnections, int bufferSize) {
        public static final Limits DEFAULT = new Limits(10_000, 64 * 1024);

        public Limits withMaxConnections(int n) {
            return new Limits(n, bufferSize);
        }

        public Limits withBufferSize(int bytes) {
            return new Limits(maxConnections, bytes);
        }
    }

    /** What some targets cannot do. */
    enum Feature {
        /** Go on sending after the client half-closes, until every byte is echoed, then close. */
        HALF_CLOSE,
        /** Refuse a connection beyond {@link Running#capacity()} and serve again when one leaves. */
        REFUSAL_BEYOND_CAPACITY
    }
}
