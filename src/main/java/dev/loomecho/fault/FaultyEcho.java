package dev.loomecho.fault;

import dev.loomecho.engine.Connection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Writes one echo back through the faults. It blocks (sleeps between slices, waits while stalled), so
 * it runs on the connection's own virtual thread — which is why the blocking engines get fault
 * injection almost for free, and the single-threaded selector engine does not offer it.
 */
public final class FaultyEcho {

    /** How soon a fault's sleep notices that its connection was closed (idle timeout, shutdown). */
    private static final Duration CLOSE_CHECK = Duration.ofMillis(100);

    /** A blocking write of some of the buffer's bytes; returns how many were written. */
    @FunctionalInterface
    public interface Write {
        int write(ByteBuffer buffer) throws Exception;
    }

    /**
     * Test hook, null outside tests: run first in every faulty echo, it may throw. Bounded faults offer no
     * way to make an echo fail unexpectedly, so this is how the conformance suite (through
     * {@code dev.loomecho.fault.EchoFailures} in the test sources) checks that every engine logs, counts
     * and closes on an exception its echo loop does not expect. Read only on the faulty path.
     */
    static volatile Consumer<Connection> beforeEcho;

    private FaultyEcho() {
    }

    /**
     * Echoes {@code data}, just read, through {@code write} under {@code faults}, then holds the next read
     * back if reads are paced. Returns true if the connection goes on, false if a threshold closed, reset
     * or stalled it (then it is closed when this returns).
     */
    public static boolean echo(Connection connection, ByteBuffer data, Write write, Faults faults) throws Exception {
        Consumer<Connection> hook = beforeEcho;
        if (hook != null) {
            hook.accept(connection);
        }
        int read = data.remaining();
        delay(connection, faults.latency(), faults.jitter());
        while (data.hasRemaining()) {
            long toThreshold = bytesToNextThreshold(connection, faults);
            if (toThreshold == 0) {
                return trip(connection, faults);
            }
            int chunk = data.remaining();
            if (faults.sliceBytes() > 0) {
                chunk = Math.min(chunk, faults.sliceBytes());
            }
            if (toThreshold > 0) {
                chunk = (int) Math.min(chunk, toThreshold);
            }
            writeExactly(connection, data, chunk, write);
            if (faults.bandwidth() > 0) {
                pause(connection, Duration.ofNanos(chunk * 1_000_000_000L / faults.bandwidth()));
            }
            if (faults.sliceBytes() > 0 && data.hasRemaining()) {
                pause(connection, faults.sliceDelay());
            }
        }
        if (bytesToNextThreshold(connection, faults) == 0) {
            return trip(connection, faults);
        }
        paceReads(connection, read, faults.readBandwidth());
        return true;
    }

    /**
     * A TLS connection's handshake faults, before its handshake begins: waits the handshake delay (as
     * progress, like a latency), or stalls until the connection is closed (not progress: the idle timeout
     * ends it, as it would a silent peer). Returns whether the handshake should go on.
     */
    public static boolean beforeHandshake(Connection connection, TlsFaults faults) throws InterruptedException {
        if (faults.stallHandshake()) {
            awaitClose(connection);
            return false;
        }
        pause(connection, faults.handshakeDelay());
        return !connection.isClosed();
    }

    /**
     * The most one read may take while reads are paced to {@code bytesPerSecond}: a tenth of a second's
     * worth (at least a byte). Engines cap every read to it before they issue it
     * ({@code ReadBuffer.forReading()}), the first on a connection included.
     */
    public static int readCap(long bytesPerSecond) {
        return Math.clamp(bytesPerSecond / 10, 1, Integer.MAX_VALUE);
    }

    /**
     * The read-bandwidth fault: after a read of {@code n} bytes the next read waits n / rate, so reads
     * average to the rate, and once the socket buffers fill, the peer's writes block: real TCP
     * back-pressure. As every read is capped to {@link #readCap}, pauses stay near 100 ms and the peer sees
     * a steady trickle, not buffer-sized bursts with long silences between them. Only a read issued before
     * the fault was set can be larger (up to a whole buffer); it is charged as one capped read, so the
     * trickle starts at once instead of after n / rate (65 s for 64 KiB at 1000 B/s).
     */
    private static void paceReads(Connection connection, int n, long bytesPerSecond) throws InterruptedException {
        if (bytesPerSecond == 0) {
            return;
        }
        long charged = Math.min(n, readCap(bytesPerSecond));
        pause(connection, Duration.ofNanos(charged * 1_000_000_000L / bytesPerSecond));
    }

    private static void writeExactly(Connection connection, ByteBuffer data, int count, Write write) throws Exception {
        int limit = data.limit();
        data.limit(data.position() + count);
        try {
            while (data.hasRemaining()) {
                connection.sent(write.write(data));
            }
        } finally {
            data.limit(limit);
        }
    }

    /** Bytes until the nearest enabled threshold; -1 if none is enabled. Truncation is for TLS connections only. */
    private static long bytesToNextThreshold(Connection connection, Faults faults) {
        long echoed = connection.echoed();
        long nearest = nearer(nearer(remaining(faults.closeAfter(), echoed), remaining(faults.resetAfter(), echoed)),
                remaining(faults.stallAfter(), echoed));
        return connection.isTls() ? nearer(nearest, remaining(faults.tls().truncateAfter(), echoed)) : nearest;
    }

    /** Bytes left before {@code threshold}; -1 when the threshold is off. */
    private static long remaining(long threshold, long echoed) {
        return threshold < 0 ? -1 : Math.max(0, threshold - echoed);
    }

    /** The smaller of two distances, where -1 (off) loses to any real one. */
    private static long nearer(long a, long b) {
        return a < 0 ? b : b < 0 ? a : Math.min(a, b);
    }

    /** The threshold at hand takes effect. Always returns false: the connection does not go on. */
    private static boolean trip(Connection connection, Faults faults) throws InterruptedException, IOException {
        long echoed = connection.echoed();
        long truncateAfter = connection.isTls() ? faults.tls().truncateAfter() : -1;
        if (faults.resetAfter() >= 0 && echoed >= faults.resetAfter()) {
            connection.reset();
        } else if (faults.closeAfter() >= 0 && echoed >= faults.closeAfter()) {
            connection.closeWithFin(); // on TLS, with close_notify first
        } else if (truncateAfter >= 0 && echoed >= truncateAfter) {
            connection.truncate();
        } else {
            awaitClose(connection); // stalled: open and silent until the peer gives up or the idle timeout reaps it
        }
        return false;
    }

    private static void delay(Connection connection, Duration latency, Duration jitter) throws InterruptedException {
        if (latency.isZero()) {
            return;
        }
        long spread = jitter.toNanos();
        long nanos = latency.toNanos() + (spread == 0 ? 0 : ThreadLocalRandom.current().nextLong(-spread, spread + 1));
        pause(connection, Duration.ofNanos(nanos));
    }

    /**
     * A fault's deliberate delay: sleeps for {@code duration}, but no longer than a moment after the
     * connection is closed: closing it is how the idle timeout and a shutdown end a connection, and a
     * fault's sleep, however long, must not hold up the server's close. The delay is the server's doing,
     * not an idle peer's, so each step counts as progress for the idle timeout.
     */
    private static void pause(Connection connection, Duration duration) throws InterruptedException {
        long started = System.nanoTime();
        Duration left = duration;
        while (left.isPositive() && !connection.isClosed()) {
            Duration step = left.compareTo(CLOSE_CHECK) < 0 ? left : CLOSE_CHECK;
            connection.heldUntil(System.nanoTime() + step.toNanos());
            Thread.sleep(step);
            left = duration.minusNanos(System.nanoTime() - started);
        }
    }

    /** Waits until the connection is closed; unlike {@link #pause}, not progress: the idle timeout may reap it. */
    private static void awaitClose(Connection connection) throws InterruptedException {
        while (!connection.isClosed()) {
            Thread.sleep(CLOSE_CHECK);
        }
    }
}
