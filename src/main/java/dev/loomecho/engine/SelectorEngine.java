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
 *
 * <p>TLS: a second listener on the same selector, whose connections are {@link TlsSession}s, the
 * {@code SSLEngine}'s state machine driven by the same readiness events.
 */
public final class SelectorEngine implements EchoEngine {

    /** What a connection does when its socket is ready: a plain {@link Session}, or a {@link TlsSession}. */
    interface Handler {
        void onReadable();

        void onWritable();
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

    private void loop() {
        // Closing the selector deregisters every channel, which completes the closes made from other threads.
        try (Selector owned = selector) {
            while (running) {
                resumeAcceptingIfDue();
                selector.select(this::dispatch, selectTimeoutMillis());
            }
        } catch (IOException | RuntimeException e) {
            Disconnects.log.error("selector failed; the selector engine stops serving", e);
            Listeners.close(listener);
            connections.closeAll();
        }
    }

    @Override
    public InetSocketAddress tlsAddress() throws IOException {
        return tlsListener == null ? null : (InetSocketAddress) tlsListener.getLocalAddress();
    }

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
        } catch (CancelledKeyException closedElsewhere) {
            // closed by the idle reaper or the shutdown between select() and now: nothing to do
        }
    }

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
     * the close only completes at the selector's next select, so such a close also wakes the selector.
     */
    private Closeable closer(SocketChannel channel) {
        return () -> {
            channel.close();
            if (Thread.currentThread() != selectorThread) {
                selector.wakeup();
            }
        };
    }

    private void admit(SocketChannel channel) {
        try {
            channel.configureBlocking(false);
            Connections.noDelay(channel);
            Session session = new Session(channel);
            session.connection = connections.admit(closer(channel), channel.getRemoteAddress());
            if (session.connection != null) {
                session.key = channel.register(selector, SelectionKey.OP_READ, session);
            }
        } catch (IOException e) {
            Disconnects.log.debug("accepted socket failed before registration: {}", e.toString());
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    /** A TLS connection: its session starts the handshake, which waits for the ClientHello first. */
    private void admitTls(SocketChannel channel) {
        Connection connection = null;
        try {
            channel.configureBlocking(false);
            Connections.noDelay(channel);
            TlsSession session = new TlsSession(channel, tls.serverEngine(ServedCertificate.VALID), connections,
                    config.bufferSize());
            connection = connections.admitTls(closer(channel), channel.getRemoteAddress());
            if (connection != null) {
                session.start(connection, channel.register(selector, SelectionKey.OP_READ, session));
            }
        } catch (IOException e) {
            Disconnects.log.debug("accepted TLS socket failed before registration: {}", e.toString());
            if (connection != null) {
                connection.close();
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    /** One connection's state: its buffer, and the echo still to be written, if any. */
    private final class Session implements Handler {
        private final SocketChannel channel;
        private final ReadBuffer readBuffer = new ReadBuffer(config.bufferSize());
        private Connection connection;
        private SelectionKey key;
        private ByteBuffer pending;
        private int lastRead;

        Session(SocketChannel channel) {
            this.channel = channel;
        }

        @Override
        public void onReadable() {
            try {
                ByteBuffer buffer = readBuffer.forReading();
                int n = channel.read(buffer);
                if (n < 0) {
                    connection.close(); // EOF, and nothing pending in READING: every byte is echoed
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
                connection.fail(e);
            }
        }

        @Override
        public void onWritable() {
            try {
                writePending();
            } catch (IOException e) {
                connection.fail(e);
            }
        }

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
    }

    /** Accept failed (most often out of descriptors): stop selecting OP_ACCEPT briefly instead of spinning. */
    private void pauseAccepting(IOException failure) {
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
