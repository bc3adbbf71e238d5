package dev.loomecho.engine;

import dev.loomecho.fault.Faults;
import java.io.Closeable;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLSocket;

/**
 * The bookkeeping of one admitted connection, the same for every engine: its counters, the time of
 * its last progress (read by the idle reaper), and a close that runs exactly once whoever calls it —
 * the engine at EOF, the idle reaper, or the server's forced shutdown.
 */
public final class Connection implements AutoCloseable {

    private static final VarHandle RECEIVED;
    private static final VarHandle ECHOED;
    private static final VarHandle LAST_PROGRESS;
    private static final VarHandle CLOSED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            RECEIVED = lookup.findVarHandle(Connection.class, "received", long.class);
            ECHOED = lookup.findVarHandle(Connection.class, "echoed", long.class);
            LAST_PROGRESS = lookup.findVarHandle(Connection.class, "lastProgressNanos", long.class);
            CLOSED = lookup.findVarHandle(Connection.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long id;
    private final Closeable channel;
    private final SocketAddress remote;
    private final Connections owner;
    /** The counters of the listener that accepted it (plain or TLS). */
    private final Counters counters;
    /** Whether the server's faults apply to this connection: chosen once, at admission (see {@link Faults#toxicity()}). */
    private final boolean toxic;
    private final ReadBuffer readBuffer;
    /** Set once, by whichever close comes first; a field and a VarHandle, not an AtomicBoolean: 16 B less per connection. */
    private volatile boolean closed;
    private final long openedNanos = System.nanoTime();
    /*
     * Bytes read and echoed, and when the connection last made progress (or until when a fault's deliberate
     * delay holds it, which may be a moment ahead: see heldUntil). Only the thread serving the
     * connection at the time writes them: it reads its own last value plainly and stores with release.
     * Other threads (the idle reaper, the connection log, JFR) read them opaquely: never torn, never
     * hoisted out of a loop and kept. On the hot path that costs no fence, where a volatile store would.
     */
    private long received;
    private long echoed;
    private long lastProgressNanos = openedNanos;

    /*
     * The TLS layer over the channel, once the engine has made one: closeWithFin ends it with close_notify.
     * Set and read by the connection's own thread only (the fault that closes runs on it).
     */
    private SSLSocket tls;

    Connection(long id, Closeable channel, SocketAddress remote, Connections owner, boolean toxic, Counters counters,
               ReadBuffer readBuffer) {
        this.id = id;
        this.readBuffer = readBuffer;
        readBuffer.attach(this); // so that it asks this connection's faults whether its reads are paced
        this.channel = channel;
        this.remote = remote;
        this.owner = owner;
        this.toxic = toxic;
        this.counters = counters;
    }

    Counters counters() {
        return counters;
    }

    /**
     * Records that the connection speaks TLS through {@code socket}, layered over its channel. The channel
     * stays what closes it from any thread (a close of the {@code SSLSocket} would wait for a blocked
     * writer to send close_notify); {@link #closeWithFin()} ends it in order, close_notify first.
     */
    public void securedBy(SSLSocket socket) {
        this.tls = socket;
    }

    /** Whether the connection came through the TLS listener. */
    public boolean isTls() {
        return counters == owner.tlsCounters();
    }

    /**
     * The connection's read buffer, handed out at admission. The engine serving the connection releases it
     * ({@link ReadBuffer#release()}) once it is closed and nothing can touch the buffer any more.
     */
    public ReadBuffer readBuffer() {
        return readBuffer;
    }

    public long id() {
        return id;
    }

    public SocketAddress remote() {
        return remote;
    }

    /**
     * The faults this connection's next echo goes through: the server's current ones if it was chosen as
     * toxic when admitted, else {@link Faults#NONE} — the same instance, so engines test it by identity.
     */
    public Faults faults() {
        return toxic ? owner.faults() : Faults.NONE;
    }

    /** Records {@code n} bytes read from the peer. */
    public void received(int n) {
        LAST_PROGRESS.setRelease(this, System.nanoTime());
        RECEIVED.setRelease(this, received + n);
        counters.bytesIn.add(n);
    }

    /** Bytes read from the peer on this connection so far. */
    public long received() {
        return (long) RECEIVED.getOpaque(this);
    }

    long openedNanos() {
        return openedNanos;
    }

    /** Records {@code n} bytes written to the peer; zero is not progress. */
    public void sent(int n) {
        if (n > 0) {
            LAST_PROGRESS.setRelease(this, System.nanoTime());
            ECHOED.setRelease(this, echoed + n);
            counters.bytesOut.add(n);
        }
    }

    /**
     * Records that the server itself holds this connection back until {@code nanoTime} (a fault's latency,
     * pacing or slice delay): the idle timeout counts from then, as from progress, so a delay longer than
     * the timeout does not get the connection reaped. A stall is not such a delay: it is meant to look idle.
     */
    public void heldUntil(long nanoTime) {
        LAST_PROGRESS.setRelease(this, nanoTime);
    }

    /** Bytes echoed on this connection so far. */
    public long echoed() {
        return (long) ECHOED.getOpaque(this);
    }

    long lastProgressNanos() {
        return (long) LAST_PROGRESS.getOpaque(this);
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Ends the connection because of {@code failure}: peer resets, EOFs and closes from another thread
     * are ordinary and logged at debug; anything else is logged once with context and counted. Never
     * throws an OutOfMemoryError of its own: the callers release the buffer after it.
     */
    public void fail(Throwable failure) {
        if (failure instanceof ExecutionException wrapped && wrapped.getCause() != null) {
            failure = wrapped.getCause(); // Future.get() wraps what the I/O operation itself threw
        }
        try {
            if (closed || Disconnects.isExpected(failure)) {
                Disconnects.log.debug("connection {} from {} ended: {}", id, remote, failure.toString());
            } else if (failure instanceof OutOfMemoryError) {
                counters.errors.increment();
                owner.logOutOfResources(this + " closed", failure); // rate-limited: it tends to come in floods
            } else {
                counters.errors.increment();
                Disconnects.log.warn("connection {} from {} failed", id, remote, failure);
            }
        } catch (OutOfMemoryError noRoomToSayIt) {
            // the line (this + " closed", a toString) did not fit: the close and the caller's release matter more
        } finally {
            close();
        }
    }

    /**
     * Ends a connection the engine could not start serving — no thread or no memory to start it with — as
     * an error: closed, counted, logged at most every 10 s, its buffer returned. Only the engine's accept
     * path calls it, before anything else could use the buffer. Never throws an OutOfMemoryError of its own.
     */
    public void abandon(Throwable outOfResources) {
        try {
            counters.errors.increment();
            owner.logOutOfResources(this + " not served", outOfResources);
        } catch (OutOfMemoryError noRoomToSayIt) {
            // as in fail(): the close and the release below matter more than the line
        } finally {
            close();
            readBuffer.release();
        }
    }

    /** Closes the socket and releases the connection's admission slot; idempotent and thread-safe. */
    @Override
    public void close() {
        closeOnce();
    }

    /**
     * Closes with an orderly FIN, for the close-after fault, even while input the peer sent is still
     * unread: the FIN is queued behind the echo first, so the peer reads everything echoed and then its
     * end of stream. A plain close with unread input would make the kernel answer with a reset instead.
     */
    public void closeWithFin() {
        try {
            if (tls != null && !tls.isClosed()) {
                tls.shutdownOutput(); // close_notify, then the FIN: TLS's orderly close
            } else if (channel instanceof SocketChannel socket && socket.isOpen()) {
                socket.shutdownOutput();
            } else if (channel instanceof AsynchronousSocketChannel socket && socket.isOpen()) {
                socket.shutdownOutput();
            }
        } catch (IOException e) {
            Disconnects.log.debug("{}: shutting down output: {}", this, e.toString());
        }
        close();
    }

    /**
     * Ends a TLS connection with a FIN but no close_notify, for the tls-truncate-after fault: a TLS client
     * must report that as a truncation, not as the end of the data. Like {@link #closeWithFin()}, the FIN
     * is queued behind the echo.
     */
    public void truncate() {
        try {
            if (channel instanceof SocketChannel socket && socket.isOpen()) {
                socket.shutdownOutput(); // the raw socket, under the TLS layer: no close_notify goes out
            }
        } catch (IOException e) {
            Disconnects.log.debug("{}: shutting down output: {}", this, e.toString());
        }
        close();
    }

    /** Closes with a TCP reset instead of an orderly FIN (SO_LINGER 0), for the reset-after fault. */
    public void reset() throws IOException {
        if (channel instanceof NetworkChannel network && network.isOpen()) {
            network.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        close();
    }

    /** Closes if still open; returns whether this call was the one that closed it. */
    boolean closeOnce() {
        if (!CLOSED.compareAndSet(this, false, true)) {
            return false;
        }
        try {
            channel.close();
        } catch (IOException e) {
            Disconnects.log.debug("closing {}: {}", this, e.toString());
        } finally {
            owner.release(this); // whatever close threw: the flag is set, so no later call would release the slot
        }
        return true;
    }

    @Override
    public String toString() {
        return "connection " + id + " from " + remote;
    }
}
