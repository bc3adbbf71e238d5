package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import dev.loomecho.tls.ServedCertificate;
import dev.loomecho.tls.ServerTls;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * select, WSAEventSelect and WSAAsyncSelect — the legacy baseline: one thread waits on one
 * {@link Selector} for readiness of every socket, then does the non-blocking read or write that is ready.
 * Unlike the seeds there is no 64-socket limit (no FD_SETSIZE, no MAXIMUM_WAIT_OBJECTS: Linux uses epoll),
 * no message pump, and no busy loop when there are no sockets: {@code select()} blocks.
 *
 * <p>The trick: interest ops are the back-pressure. Each connection is in one of two states —
 * <pre>
 *   READING  interest OP_READ;  nothing pending. Readable: read, write what we can; all out → stay, else → WRITING
 *   WRITING  interest OP_WRITE; echo pending.   Writable: write the rest; all out → READING
 * </pre>
 * — so while a peer does not read its echo, we do not read its input, and memory stays one buffer.
 *
 * <p>Only the selector thread reads, writes and changes interest ops. Other threads only close channels
 * (the listener on stop, connections on idle timeout or shutdown): a registered channel's descriptor is
 * released at the selector's next select, which each such close wakes, or when the selector closes.
 * Such a close also queues the session, and the selector thread returns its buffer to the pool: the
 * closing thread cannot know whether the selector thread is reading into it at that moment. A buffer
 * goes back only once its connection's key is cancelled, so that the key is never selected again.
 *
 * <p>The one thread must outlive anything one connection does, running out of memory included: an
 * error while serving a connection ends that connection, never the loop.
 *
 * <p>TLS: a second listener on the same selector, whose connections are {@link TlsSession}s, the
 * {@code SSLEngine}'s state machine driven by the same readiness events.
 */
public final class SelectorEngine implements EchoEngine {

    /** What a connection does when its socket is ready: a plain {@link Session}, or a {@link TlsSession}. */
    interface Handler {
        void onReadable();

        void onWritable();

        /** Ends the connection here, on the selector thread: at EOF ({@code null}) or on {@code failure}. */
        void end(Throwable failure);
    }

    private final ServerConfig config;
    private final Connections connections;
    private final ServerTls tls; // null: no TLS listener
    private final AcceptFailures acceptFailures = new AcceptFailures();
    private Selector selector;
    private ServerSocketChannel listener;
    private ServerSocketChannel tlsListener;
    private SelectionKey acceptKey;
    private SelectionKey tlsAcceptKey;
    private long acceptPausedUntil;
    private volatile boolean running = true;
    private Thread selectorThread;
    private final Queue<Session> closedElsewhere = new ConcurrentLinkedQueue<>();
    private final RateLimitedLog loopFailures = new RateLimitedLog(Disconnects.log, Duration.ofSeconds(10));

    public SelectorEngine(ServerConfig config, Connections connections, ServerTls tls) {
        this.config = config;
        this.connections = connections;
        this.tls = tls;
    }

    @Override
    public InetSocketAddress start() throws IOException {
        selector = Selector.open();
        try {
            listener = Listeners.bind(ServerSocketChannel.open(), config, ServerSocketChannel::bind);
            listener.configureBlocking(false);
            acceptKey = listener.register(selector, SelectionKey.OP_ACCEPT);
            if (tls != null) {
                tlsListener = Listeners.bind(ServerSocketChannel.open(), config.tlsAddress(), config.reusePort(),
                        "listen for TLS", ServerSocketChannel::bind);
                tlsListener.configureBlocking(false);
                tlsAcceptKey = tlsListener.register(selector, SelectionKey.OP_ACCEPT);
            }
        } catch (IOException | RuntimeException e) {
            if (listener != null) {
                Listeners.close(listener);
            }
            if (tlsListener != null) {
                Listeners.close(tlsListener);
            }
            selector.close();
            throw e;
        }
        selectorThread = Thread.ofPlatform().name("loom-echo-selector").daemon().start(this::loop);
        return (InetSocketAddress) listener.getLocalAddress();
    }

    // docs:begin loop
    private void loop() {
        // Closing the selector deregisters every channel, which completes the closes made from other threads.
        try (Selector owned = selector) {
            while (running) {
                resumeAcceptingIfDue();
                releaseBuffersClosedElsewhere();
                try {
                    selector.select(this::dispatch, selectTimeoutMillis());
                } catch (OutOfMemoryError e) {
                    // not in one connection's code (that is caught in dispatch): the selector's own bookkeeping
                    loopFailures.warn("selector loop out of memory ({} similar not logged since the last report); "
                            + "going on: {}", e.toString());
                }
            }
        } catch (IOException | RuntimeException e) {
            Disconnects.log.error("selector failed; the selector engine stops serving", e);
            Listeners.close(listener);
            connections.closeAll();
        } finally {
            releaseBuffersClosedElsewhere(); // the connections closed by the shutdown
        }
    }

    private void releaseBuffersClosedElsewhere() {
        Session session;
        while ((session = closedElsewhere.poll()) != null) {
            if (session.readBuffer != null) { // null: closed during its admission, which released it
                session.readBuffer.release();
            }
        }
    }
    // docs:end loop

    @Override
    public InetSocketAddress tlsAddress() throws IOException {
        return tlsListener == null ? null : (InetSocketAddress) tlsListener.getLocalAddress();
    }

    // docs:begin dispatch
    private void dispatch(SelectionKey key) {
        try {
            if (key == acceptKey) {
                acceptAll(listener, false);
            } else if (key == tlsAcceptKey) {
                acceptAll(tlsListener, true);
            } else if (key.isReadable()) {
                ((Handler) key.attachment()).onReadable();
            } else if (key.isWritable()) {
                ((Handler) key.attachment()).onWritable();
            }
        } catch (CancelledKeyException closed) {
            // closed by the idle reaper or the shutdown between select() and now: nothing to do
        } catch (RuntimeException | OutOfMemoryError e) {
            if (key.attachment() instanceof Handler connection) {
                connection.end(e); // ends this one connection; the loop goes on
            } else {
                pauseAccepting(e); // out of memory for a new socket: as with descriptors, pause accepting
            }
        }
    }
    // docs:end dispatch

    private void acceptAll(ServerSocketChannel listener, boolean secure) {
        while (true) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException e) {
                return; // stopAccepting() closed the listener
            } catch (IOException e) {
                pauseAccepting(e);
                return;
            }
            if (channel == null) {
                return; // no more pending connections
            }
            if (secure) {
                admitTls(channel);
            } else {
                admit(channel);
            }
        }
    }

    /**
     * How a connection's channel is closed. Another thread (the idle reaper, the shutdown) may close it;
     * the close only completes at the selector's next select, so such a close also wakes the selector,
     * and queues a plain session for its buffer to be released there.
     */
    private Closeable closer(SocketChannel channel, Session session) {
        return () -> {
            channel.close();
            if (Thread.currentThread() != selectorThread) {
                if (session != null) {
                    closedElsewhere.add(session);
                }
                selector.wakeup();
            }
        };
    }

    private void admit(SocketChannel channel) {
        Connection connection = null;
        try {
            channel.configureBlocking(false);
            Connections.noDelay(channel);
            Session session = new Session(channel);
            connection = connections.admit(closer(channel, session), channel.getRemoteAddress());
            if (connection != null) {
                session.connection = connection;
                session.readBuffer = connection.readBuffer();
                session.key = channel.register(selector, SelectionKey.OP_READ, session);
            }
        } catch (IOException e) {
            Disconnects.log.debug("accepted socket failed before registration: {}", e.toString());
            if (connection != null) {
                connection.close();
                connection.readBuffer().release();
            }
            closeQuietly(channel);
        } catch (OutOfMemoryError e) {
            if (connection != null) {
                connection.abandon(e); // counted and logged as an error: this one connection is not served
            } else {
                pauseAccepting(e);
            }
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more to release
        }
    }

    /**
     * A TLS connection: its session starts the handshake, which waits for the ClientHello first. It
     * reads and writes through the engine's record buffers, so the pooled read buffer goes back at once.
     */
    private void admitTls(SocketChannel channel) {
        Connection connection = null;
        try {
            channel.configureBlocking(false);
            Connections.noDelay(channel);
            connection = connections.admitTls(closer(channel, null), channel.getRemoteAddress());
            if (connection != null) {
                connection.readBuffer().release();
                TlsSession session = new TlsSession(channel, tls.serverEngine(ServedCertificate.VALID), connections,
                        config.bufferSize());
                session.start(connection, channel.register(selector, SelectionKey.OP_READ, session));
            }
        } catch (IOException e) {
            Disconnects.log.debug("accepted TLS socket failed before registration: {}", e.toString());
            if (connection != null) {
                connection.close();
            }
            closeQuietly(channel);
        } catch (OutOfMemoryError e) {
            if (connection != null) {
                connection.abandon(e); // counted and logged as an error: this one connection is not served
            } else {
                pauseAccepting(e);
            }
            closeQuietly(channel);
        }
    }

    /** One connection's state: its buffer, and the echo still to be written, if any. */
    private final class Session implements Handler {
        private final SocketChannel channel;
        private ReadBuffer readBuffer;
        private Connection connection;
        private SelectionKey key;
        private ByteBuffer pending;
        private int lastRead;

        Session(SocketChannel channel) {
            this.channel = channel;
        }

        // docs:begin on-readable
        @Override
        public void onReadable() {
            try {
                ByteBuffer buffer = readBuffer.forReading();
                int n = channel.read(buffer);
                if (n < 0) {
                    end(null); // EOF, and nothing pending in READING: every byte is echoed
                    return;
                }
                if (n == 0) {
                    return;
                }
                connection.received(n);
                lastRead = n;
                buffer.flip();
                pending = buffer;
                writePending();
            } catch (IOException e) {
                end(e);
            }
        }
        // docs:end on-readable

        @Override
        public void onWritable() {
            try {
                writePending();
            } catch (IOException e) {
                end(e);
            }
        }

        /**
         * Closes the connection here, on the selector thread, so its buffer can go back to the pool at once.
         * The key is cancelled first, whoever closes the channel: another thread (the idle reaper, the
         * shutdown) may have begun the close and not yet closed the channel, so our close() returns at once
         * with the key still valid, and a selected key would read into a buffer the pool has handed on.
         */
        @Override
        public void end(Throwable failure) {
            key.cancel(); // never selected again, not even later in this select's batch
            pending = null;
            if (failure == null) {
                connection.close();
            } else {
                connection.fail(failure);
            }
            readBuffer.release();
        }

        // docs:begin write-pending
        private void writePending() throws IOException {
            connection.sent(channel.write(pending));
            if (pending.hasRemaining()) {
                key.interestOps(SelectionKey.OP_WRITE); // WRITING: stop reading until the peer drains
            } else {
                pending = null;
                readBuffer.adapt(lastRead);
                key.interestOps(SelectionKey.OP_READ);  // READING
            }
        }
        // docs:end write-pending
    }

    /** Accept failed (most often out of descriptors): stop selecting OP_ACCEPT briefly instead of spinning. */
    private void pauseAccepting(Throwable failure) {
        acceptFailures.record(failure);
        acceptKey.interestOps(0);
        if (tlsAcceptKey != null) {
            tlsAcceptKey.interestOps(0);
        }
        acceptPausedUntil = System.nanoTime() + AcceptFailures.BACKOFF.toNanos();
    }

    private void resumeAcceptingIfDue() {
        if (acceptPausedUntil != 0 && System.nanoTime() - acceptPausedUntil >= 0) {
            acceptPausedUntil = 0;
            try {
                acceptKey.interestOps(SelectionKey.OP_ACCEPT);
                if (tlsAcceptKey != null) {
                    tlsAcceptKey.interestOps(SelectionKey.OP_ACCEPT);
                }
            } catch (CancelledKeyException stopped) {
                // stopAccepting() closed the listener meanwhile (a validity check first could not rule that out)
            }
        }
    }

    private long selectTimeoutMillis() {
        return acceptPausedUntil == 0 ? 0 : Math.max(1, (acceptPausedUntil - System.nanoTime()) / 1_000_000);
    }

    /**
     * Closes the listener here, on the caller's thread: left to the selector thread, the close could come
     * after its last select and never happen. The port is released at the next select, woken now.
     */
    @Override
    public void stopAccepting() {
        Listeners.close(listener);
        if (tlsListener != null) {
            Listeners.close(tlsListener);
        }
        selector.wakeup();
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        running = false;
        selector.wakeup();
        selectorThread.join();
    }
}
