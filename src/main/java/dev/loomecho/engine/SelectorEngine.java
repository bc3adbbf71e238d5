package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
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
 * closing thread cannot know whether the selector thread is reading into it at that moment.
 *
 * <p>The one thread must outlive anything one connection does, running out of memory included: an
 * error while serving a connection ends that connection, never the loop.
 */
public final class SelectorEngine implements EchoEngine {

    private final ServerConfig config;
    private final Connections connections;
    private final AcceptFailures acceptFailures = new AcceptFailures();
    private Selector selector;
    private ServerSocketChannel listener;
    private SelectionKey acceptKey;
    private long acceptPausedUntil;
    private volatile boolean running = true;
    private Thread selectorThread;
    private final Queue<Session> closedElsewhere = new ConcurrentLinkedQueue<>();
    private final RateLimitedLog loopFailures = new RateLimitedLog(Disconnects.log, Duration.ofSeconds(10));

    public SelectorEngine(ServerConfig config, Connections connections) {
        this.config = config;
        this.connections = connections;
    }

    @Override
    public InetSocketAddress start() throws IOException {
        selector = Selector.open();
        try {
            listener = Listeners.bind(ServerSocketChannel.open(), config, ServerSocketChannel::bind);
            listener.configureBlocking(false);
            acceptKey = listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            if (listener != null) {
                Listeners.close(listener);
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
            session.readBuffer.release();
        }
    }
    // docs:end loop

    // docs:begin dispatch
    private void dispatch(SelectionKey key) {
        try {
            if (key == acceptKey) {
                acceptAll();
            } else if (key.isReadable()) {
                ((Session) key.attachment()).onReadable();
            } else if (key.isWritable()) {
                ((Session) key.attachment()).onWritable();
            }
        } catch (CancelledKeyException closed) {
            // closed by the idle reaper or the shutdown between select() and now: nothing to do
        } catch (OutOfMemoryError e) {
            if (key.attachment() instanceof Session session) {
                session.end(e); // ends this one connection; the loop goes on
            } else {
                pauseAccepting(e); // out of memory for a new socket: as with descriptors, pause accepting
            }
        }
    }
    // docs:end dispatch

    private void acceptAll() {
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
            admit(channel);
        }
    }

    private void admit(SocketChannel channel) {
        Connection connection = null;
        try {
            channel.configureBlocking(false);
            Connections.noDelay(channel);
            Session session = new Session(channel);
            // Another thread (the idle reaper, the shutdown) may close this channel; the close only
            // completes at the selector's next select, so such a close also wakes the selector.
            connection = connections.admit(() -> {
                channel.close();
                if (Thread.currentThread() != selectorThread) {
                    closedElsewhere.add(session);
                    selector.wakeup();
                }
            }, channel.getRemoteAddress());
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

    /** One connection's state: its buffer, and the echo still to be written, if any. */
    private final class Session {
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
        void onReadable() {
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

        void onWritable() {
            try {
                writePending();
            } catch (IOException e) {
                end(e);
            }
        }

        /** Closes the connection here, on the selector thread, so its buffer can go back to the pool at once. */
        void end(Throwable failure) {
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
        acceptPausedUntil = System.nanoTime() + AcceptFailures.BACKOFF.toNanos();
    }

    private void resumeAcceptingIfDue() {
        if (acceptPausedUntil != 0 && System.nanoTime() - acceptPausedUntil >= 0) {
            acceptPausedUntil = 0;
            try {
                acceptKey.interestOps(SelectionKey.OP_ACCEPT);
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
        selector.wakeup();
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        running = false;
        selector.wakeup();
        selectorThread.join();
    }
}
