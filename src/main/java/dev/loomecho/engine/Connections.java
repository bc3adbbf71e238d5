package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import dev.loomecho.Stats;
import dev.loomecho.TlsStats;
import dev.loomecho.fault.Faults;
import java.io.Closeable;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's live connections, shared by every engine: admission control, the registry the idle
 * reaper and the shutdown walk over, and the counters behind {@link Stats}.
 *
 * <p>Admission is WSAAccept's condition function in the seeds: a connection beyond
 * {@code maxConnections} is accepted and closed at once. Engines ask {@link #admit} on their accept
 * path before they create any thread or handler for the socket, so a flood costs an accept and a
 * close per connection, never a thread.
 *
 * <p>Admission also gives each connection its read buffer from the server's {@link BufferPool}; a
 * connection the pool has no buffer for is refused the same way (closed at once, counted as rejected)
 * rather than accepted and left unserved.
 *
 * <p>Once the server begins to stop ({@link #stopAdmitting()}), nothing more is admitted: a socket an
 * engine accepted just before its listener closed is closed at once, so the drain and the forced close
 * wait only for connections that were open when stopping began.
 */
public final class Connections {

    private final Semaphore slots;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
    private final Counters counters = new Counters();
    private final Counters tlsCounters = new Counters();
    private final BufferPool buffers;
    private final RateLimitedLog outOfResources =
            new RateLimitedLog(LoggerFactory.getLogger(Connection.class), Duration.ofSeconds(10));
    private final AtomicLong ids = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition emptied = lock.newCondition();
    private volatile Faults faults;
    /** Draws one number per admitted connection, in admission order, so a seed reproduces the toxicity choices. */
    private final Random toxicityChoices;
    /** Set once, when the server begins to stop; read on every admission. */
    private volatile boolean stopping;
    private final boolean logConnections;
    private static final Logger connectionLog = LoggerFactory.getLogger("dev.loomecho.connections");

    public Connections(ServerConfig config) {
        this(config, new BufferPool(config.bufferSize()));
    }

    Connections(ServerConfig config, BufferPool buffers) {
        this.slots = new Semaphore(config.maxConnections());
        this.buffers = buffers;
        faults(config.faults());
        this.toxicityChoices = config.seed().isPresent() ? new Random(config.seed().getAsLong()) : new Random();
        this.logConnections = config.logConnections();
    }

    /** The server's faults right now; {@link Faults#NONE} normally. Toxic connections go through them. */
    public Faults faults() {
        return faults;
    }

    /** Changes the faults for every toxic connection, from its next echo on. */
    public void faults(Faults faults) {
        // NONE itself, so the per-echo isNone() is an identity check; a toxicity alone is kept, for admission
        this.faults = faults.equals(Faults.NONE) ? Faults.NONE : faults;
    }

    /** {@link #admit(Closeable, SocketAddress)} for a blocking or selectable socket. */
    public Connection admit(SocketChannel channel) {
        noDelay(channel);
        return admit(channel, remoteOf(channel::getRemoteAddress));
    }

    /** {@link #admit(SocketChannel)} for a socket the TLS listener accepted: counted as TLS. */
    public Connection admitTls(SocketChannel channel) {
        noDelay(channel);
        return admit(channel, remoteOf(channel::getRemoteAddress), tlsCounters);
    }

    /** {@link #admit(Closeable, SocketAddress)} for the TLS listener's socket, closed by {@code channel}: counted as TLS. */
    public Connection admitTls(Closeable channel, SocketAddress remote) {
        return admit(channel, remote, tlsCounters);
    }

    /** {@link #admit(Closeable, SocketAddress)} for an asynchronous socket. */
    public Connection admit(AsynchronousSocketChannel channel) {
        noDelay(channel);
        return admit(channel, remoteOf(channel::getRemoteAddress));
    }

    /**
     * An echo is sent the moment it is read, and the peer waits for it: Nagle's algorithm would hold the
     * small tail of an echo back until the previous segment is acknowledged, which a delayed-ACK peer does
     * up to 40 ms later. Netty's echo sets the same option.
     */
    static void noDelay(NetworkChannel channel) {
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            // the peer is already gone; the engine's first read will say so
        }
    }

    /**
     * Takes ownership of a just-accepted channel. Returns its {@link Connection}, or {@code null} if the
     * server is full, in which case the channel has already been closed and counted as rejected.
     */
    public Connection admit(Closeable channel, SocketAddress remote) {
        return admit(channel, remote, counters);
    }

    /** Admits a connection of the listener whose {@code counters} count it (the plain or the TLS one). */
    // docs:begin admit
    private Connection admit(Closeable channel, SocketAddress remote, Counters counters) {
        if (stopping) {
            closeQuietly(channel); // accepted just before the listener closed: too late to be served
            return null;
        }
        if (!slots.tryAcquire()) {
            counters.rejected.increment();
            closeQuietly(channel);
            return null;
        }
        // docs:end admit
        Connection connection = open(channel, remote, counters);
        if (connection == null) {
            slots.release();
            closeQuietly(channel); // no memory to serve it: turned away like a connection beyond the limit
            counters.rejected.increment(); // last: if even this does not fit, nothing is left behind
            return null;
        }
        // closeAll() may have set the flag and walked the set just before our add, and so missed this
        // connection. We add, then read the flag; closeAll writes the flag, then reads the set: one of
        // the two sees the other, so either closeAll closes the connection or we do, here.
        if (stopping) {
            connection.close();
            connection.readBuffer().release();
            return null;
        }
        return connection;
    }

    /**
     * A connection with its read buffer, counted and in the live set; or null, holding nothing, when there
     * is no memory for it: no buffer in the pool (counted there), or no heap for the bookkeeping (the
     * objects, the JFR event, a counter's cell, the map's node).
     *
     * <p>Joining the live set is the last step: once in it, a concurrent {@link #closeAll()} may close the
     * connection and give its slot back, so nothing after the add may fail and be undone here.
     */
    private Connection open(Closeable channel, SocketAddress remote, Counters counters) {
        ReadBuffer readBuffer = null;
        Connection connection = null;
        boolean countedAccepted = false;
        boolean countedActive = false;
        try {
            readBuffer = ReadBuffer.open(buffers);
            if (readBuffer == null) {
                return null;
            }
            // Always draw, whatever the toxicity: the n-th connection then gets the n-th number of the seeded sequence.
            boolean toxic = toxicityChoices.nextDouble() < faults.toxicity();
            connection = new Connection(ids.incrementAndGet(), channel, remote, this, toxic, counters, readBuffer);
            ConnectionEvents.opened(connection);
            counters.accepted.increment();
            countedAccepted = true;
            counters.active.increment(); // taken back by release(), at the close
            countedActive = true;
            live.add(connection);
            return connection;
        } catch (OutOfMemoryError e) {
            if (connection != null) {
                live.remove(connection); // added or not: the map's node may be what did not fit
            }
            if (readBuffer != null) {
                readBuffer.release();
            }
            try {
                if (countedActive) {
                    counters.active.decrement();
                }
                if (countedAccepted) {
                    counters.accepted.decrement(); // it is counted as rejected instead
                }
                logOutOfResources("connection from " + remote + " refused", e);
            } catch (OutOfMemoryError noRoomToSayIt) {
                // the caller's clean-up (slot, channel) matters more than a count or the line
            }
            return null;
        }
    }

    /**
     * Logs, at most once per 10 s, that memory or threads ran out for one connection. Thread-safe:
     * any engine thread may find itself out of memory.
     */
    synchronized void logOutOfResources(String what, Throwable failure) {
        outOfResources.warn("out of resources ({} similar events not logged since the last report): {}: {}",
                what, failure.toString());
    }

    /** The read buffers of every connection; the server trims and closes the pool. */
    public BufferPool buffers() {
        return buffers;
    }

    void release(Connection connection) {
        connection.counters().active.decrement(); // release runs once per connection, from its close
        if (live.remove(connection)) {
            try {
                long lifetime = System.nanoTime() - connection.openedNanos();
                ConnectionEvents.closed(connection, lifetime);
                if (logConnections) {
                    connectionLog.info("{} closed after {} ms: {} bytes in, {} bytes out", connection,
                            lifetime / 1_000_000, connection.received(), connection.echoed());
                }
            } catch (OutOfMemoryError noRoomToSayIt) {
                // the event and the line did not fit: the slot, and the caller's release of the buffer, matter more
            }
            slots.release();
            if (live.isEmpty()) {
                signalEmptied();
            }
        }
    }

    Counters tlsCounters() {
        return tlsCounters;
    }

    /** A TLS handshake failed: the client or the server refused the other, or the client left mid-way. */
    public void handshakeFailed() {
        tlsCounters.handshakeFailures.increment();
    }

    Set<Connection> live() {
        return live;
    }

    public int active() {
        return live.size();
    }

    /**
     * The TCP counters (both listeners), with the UDP ones passed in (they live in the UDP echo, not
     * here). Each TLS counter is read once and added to the plain one, so a total is exactly its two
     * listeners' sum; the active gauges are read a moment apart and may differ by a connection in flight.
     */
    public Stats snapshot(long udpEchoed, long udpDropped) {
        BufferPool.Usage memory = buffers.usage();
        TlsStats tls = new TlsStats(tlsCounters.accepted.sum(), tlsCounters.active.sum(), tlsCounters.rejected.sum(),
                tlsCounters.bytesIn.sum(), tlsCounters.bytesOut.sum(), tlsCounters.idleClosed.sum(),
                tlsCounters.errors.sum(), tlsCounters.handshakeFailures.sum());
        return new Stats(counters.accepted.sum() + tls.accepted(), live.size(),
                counters.rejected.sum() + tls.rejected(), counters.bytesIn.sum() + tls.bytesIn(),
                counters.bytesOut.sum() + tls.bytesOut(), counters.idleClosed.sum() + tls.idleClosed(),
                counters.errors.sum() + tls.errors(), udpEchoed, udpDropped,
                memory.bytesInUse(), memory.bytesPooled(), memory.allocationFailures(), tls);
    }

    /** Waits until no connection is open, or the timeout passes. Returns whether all are gone. */
    public boolean awaitEmpty(Duration timeout) throws InterruptedException {
        long remaining = timeout.toNanos();
        lock.lock();
        try {
            while (!live.isEmpty()) {
                if (remaining <= 0) {
                    return false;
                }
                remaining = emptied.awaitNanos(remaining);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Admits nothing from now on; what is open stays open. The first step of every shutdown. */
    public void stopAdmitting() {
        stopping = true;
    }

    /**
     * The forced end of a shutdown: admits nothing more, and closes every connection still open, which
     * wakes any blocked I/O.
     */
    public void closeAll() {
        stopAdmitting();
        live.forEach(Connection::close);
    }

    void closeIdle(Connection connection) {
        if (connection.closeOnce()) {
            connection.counters().idleClosed.increment();
            Disconnects.log.debug("{} made no progress for the idle timeout; closed", connection);
        }
    }

    private void signalEmptied() {
        lock.lock();
        try {
            emptied.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static SocketAddress remoteOf(RemoteAddress lookup) {
        try {
            return lookup.get();
        } catch (IOException e) {
            return null; // the peer is already gone; the engine's first read will say so
        }
    }

    @FunctionalInterface
    private interface RemoteAddress {
        SocketAddress get() throws IOException;
    }

    private static void closeQuietly(Closeable channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // the peer is being turned away; a failed close changes nothing for it
        }
    }
}
