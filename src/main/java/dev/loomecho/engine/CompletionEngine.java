package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.FaultyEcho;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Overlapped I/O with completion routines, and I/O completion ports: each read and write is issued and
 * returns at once; when it completes, a {@link CompletionHandler} runs on one of the group's fixed pool
 * of threads (on Windows the JDK builds that group on an IOCP, on Linux on epoll).
 *
 * <p>The trick: every handler issues the connection's next operation itself — read, then write until
 * all is out, then read again. So a channel has at most one operation in flight (a second write would
 * throw {@code WritePendingException}), nothing queues up, and a peer that stops reading stops our reads.
 */
public final class CompletionEngine implements EchoEngine {

    private final ServerConfig config;
    private final Connections connections;
    private final AcceptFailures acceptFailures = new AcceptFailures();
    /** Work that must sleep (fault delays, accept back-off), which a pool thread must never do. */
    private final ExecutorService sleepers =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("loom-echo-sleeper-", 1).factory());
    private final JoinableThreads groupThreads = new JoinableThreads("loom-echo-completion-", true);
    private AsynchronousChannelGroup group;
    private AsynchronousServerSocketChannel listener;

    public CompletionEngine(ServerConfig config, Connections connections) {
        this.config = config;
        this.connections = connections;
    }

    @Override
    public InetSocketAddress start() throws IOException {
        group = AsynchronousChannelGroup.withFixedThreadPool(config.threads(), groupThreads);
        listener = Listeners.bindAsynchronous(group, config);
        listener.accept(null, new Acceptor());
        return (InetSocketAddress) listener.getLocalAddress();
    }

    /** The accept completion routine: re-arms itself first, so accepting never waits on a connection. */
    private final class Acceptor implements CompletionHandler<AsynchronousSocketChannel, Void> {
        @Override
        public void completed(AsynchronousSocketChannel channel, Void unused) {
            try {
                listener.accept(null, this);
            } catch (OutOfMemoryError e) {
                failed(e, null); // re-armed after a back-off instead
            } finally {
                // Even if re-arming threw (the group shutting down), the socket is admitted or closed: an
                // open channel nobody owns would keep the group from ever terminating.
                serve(channel);
            }
        }

        private void serve(AsynchronousSocketChannel channel) {
            Connection connection = connections.admit(channel);
            if (connection != null) {
                try {
                    new Echo(connection, channel).read();
                } catch (OutOfMemoryError e) {
                    connection.abandon(e); // not even the Echo could be made: nothing of the chain has started
                }
            }
        }

        @Override
        public void failed(Throwable failure, Void unused) {
            if (!listener.isOpen()) {
                return; // stopAccepting() closed the listener
            }
            // Back off on a virtual thread: the pool threads must stay free to serve open connections.
            sleepers.execute(() -> {
                try {
                    acceptFailures.recordAndBackOff(failure);
                    listener.accept(null, this);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException closedMeanwhile) {
                    // the listener was closed while we slept (stopAccepting): nothing more to accept
                }
            });
        }
    }

    /**
     * One connection's chain of operations: read → write (repeated until all is out) → read ... Each step
     * either issues the next operation, last, or ends the chain ({@link #end}); whatever a step throws
     * before that ends it too, so no connection is left open with nothing in flight.
     */
    private final class Echo {
        private final Connection connection;
        private final AsynchronousSocketChannel channel;
        private final ReadBuffer readBuffer;
        private ByteBuffer buffer;
        private int lastRead;

        Echo(Connection connection, AsynchronousSocketChannel channel) {
            this.connection = connection;
            this.channel = channel;
            this.readBuffer = connection.readBuffer();
        }

        // docs:begin read
        void read() {
            try {
                buffer = readBuffer.forReading();
                channel.read(buffer, null, readDone);
            } catch (RuntimeException | OutOfMemoryError e) {
                end(e);
            }
        }
        // docs:end read

        // docs:begin read-done
        private final CompletionHandler<Integer, Void> readDone = new CompletionHandler<>() {
            @Override
            public void completed(Integer n, Void unused) {
                if (n < 0) {
                    end(null); // EOF: everything read has been echoed already
                    return;
                }
                try {
                    connection.received(n);
                    lastRead = n;
                    buffer.flip();
                    write();
                } catch (RuntimeException | OutOfMemoryError e) {
                    end(e);
                }
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                end(failure);
            }
        };
        // docs:end read-done

        // docs:begin write
        /** Issues the echo's write; under faults, which sleep, hands this one echo to a virtual thread instead. */
        private void write() {
            Faults faults = connection.faults();
            if (faults.isNone()) {
                channel.write(buffer, null, writeDone);
            } else {
                sleepers.execute(() -> echoWithFaults(faults)); // fault injection: a pool thread must never sleep
            }
        }
        // docs:end write

        private void echoWithFaults(Faults faults) {
            try {
                if (!FaultyEcho.echo(connection, buffer, b -> channel.write(b).get(), faults)) {
                    end(null);
                    return;
                }
                readBuffer.adapt(lastRead);
            } catch (Exception | OutOfMemoryError e) {
                end(e);
                return;
            }
            read();
        }

        // docs:begin write-done
        private final CompletionHandler<Integer, Void> writeDone = new CompletionHandler<>() {
            @Override
            public void completed(Integer n, Void unused) {
                try {
                    connection.sent(n);
                    if (buffer.hasRemaining()) {
                        channel.write(buffer, null, this); // partial write: re-issue the rest
                        return;
                    }
                    readBuffer.adapt(lastRead);
                } catch (RuntimeException | OutOfMemoryError e) {
                    end(e);
                    return;
                }
                read();
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                end(failure);
            }
        };
        // docs:end write-done

        /**
         * The chain's last step: nothing is in flight, so the buffer goes back to the pool. {@code failure}
         * is null for an ordinary end (EOF, a fault's close).
         */
        private void end(Throwable failure) {
            if (failure == null) {
                connection.close();
            } else {
                connection.fail(failure);
            }
            readBuffer.release();
        }
    }

    @Override
    public void stopAccepting() {
        Listeners.close(listener);
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        sleepers.close();
        group.shutdown(); // terminates once every channel is closed and every handler has returned
        group.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        groupThreads.join();
    }
}
