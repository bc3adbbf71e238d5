package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import dev.loomecho.Supervision;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.FaultyEcho;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Overlapped I/O with event objects: issue an operation, then wait for its completion —
 * {@code WSARecv} + {@code WSAWaitForMultipleEvents} + {@code WSAGetOverlappedResult} become
 * {@code channel.read(buffer)} + {@link java.util.concurrent.Future#get()}.
 *
 * <p>The trick: each connection waits on its own virtual thread, so {@code get()} parks cheaply instead of
 * holding an OS thread, and there is no 64-event limit per wait to work around. It shows that once
 * waiting is cheap, the asynchronous API buys nothing over the plain blocking one of the virtual engine.
 */
public final class FutureEngine implements EchoEngine {

    private final ServerConfig config;
    private final Connections connections;
    private final AcceptFailures acceptFailures = new AcceptFailures();
    private final JoinableThreads groupThreads = new JoinableThreads("loom-echo-future-io-", true);
    private AsynchronousChannelGroup group;
    private AsynchronousServerSocketChannel listener;
    private Thread acceptor;

    public FutureEngine(ServerConfig config, Connections connections) {
        this.config = config;
        this.connections = connections;
    }

    @Override
    public InetSocketAddress start() throws IOException {
        group = AsynchronousChannelGroup.withFixedThreadPool(config.threads(), groupThreads);
        listener = Listeners.bindAsynchronous(group, config);
        acceptor = Thread.ofVirtual().name("loom-echo-accept").start(this::superviseConnections);
        return (InetSocketAddress) listener.getLocalAddress();
    }

    /** As in the virtual engine: the accept loop owns the supervisor its connections are forked into. */
    private void superviseConnections() {
        try (var supervisor = ConnectionSupervisor.open("loom-echo-connections",
                Thread.ofVirtual().name("loom-echo-conn-", 1).factory())) {
            acceptUntilClosed(supervisor);
            supervisor.join(); // every connection is closed before the server waits on us
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Listeners.close(listener); // however the loop ended, the port must not stay bound and unserved
        }
    }

    private void acceptUntilClosed(ConnectionSupervisor supervisor) {
        while (listener.isOpen()) {
            AsynchronousSocketChannel channel;
            try {
                channel = listener.accept().get();
            } catch (ExecutionException | OutOfMemoryError e) {
                if (!listener.isOpen()) {
                    return; // stopAccepting() closed the listener
                }
                if (!backOff(e)) {
                    return;
                }
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // so join() below turns into the forced stop
                return;
            }
            Connection connection = connections.admit(channel);
            if (connection != null && !fork(supervisor, connection, channel)) {
                return; // interrupted while backing off: the forced stop
            }
        }
    }

    /** Starts the connection's thread; if none can be started, ends only this connection and backs off. */
    private boolean fork(ConnectionSupervisor supervisor, Connection connection, AsynchronousSocketChannel channel) {
        try {
            supervisor.fork(() -> serve(connection, channel));
            return true;
        } catch (OutOfMemoryError | RejectedExecutionException noThread) {
            connection.abandon(noThread);
            try {
                acceptFailures.backOff();
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    // docs:begin serve
    /** Read, wait; write, wait (again while a write was partial); until EOF. */
    private void serve(Connection connection, AsynchronousSocketChannel channel) {
        ReadBuffer readBuffer = connection.readBuffer();
        try {
            ByteBuffer buffer = readBuffer.forReading();
            int n;
            while ((n = channel.read(buffer).get()) >= 0) {
                connection.received(n);
                buffer.flip();
                if (!writeAll(connection, channel, buffer)) {
                    return; // a fault closed, reset or stalled the connection
                }
                readBuffer.adapt(n);
                buffer = readBuffer.forReading();
            }
        } catch (Exception | OutOfMemoryError e) {
            connection.fail(e); // before the close below, or fail() would take the error for a close from elsewhere
        } finally {
            connection.close();
            // An interrupted get() (the forced stop) leaves the read in flight on a group thread. A close of
            // our own waits until no group thread is inside a read or write of the channel, and none
            // starts after it, whoever closed first: only then may the buffer go back to the pool.
            closeAndQuiesce(channel);
            readBuffer.release();
        }
    }
    // docs:end serve

    // docs:begin write-all
    /** Writes all of the buffer back, waiting for each write; through the faults if the connection has any. */
    private static boolean writeAll(Connection connection, AsynchronousSocketChannel channel, ByteBuffer buffer)
            throws Exception {
        Faults faults = connection.faults();
        if (!faults.isNone()) {
            return FaultyEcho.echo(connection, buffer, b -> channel.write(b).get(), faults); // fault injection
        }
        while (buffer.hasRemaining()) {
            connection.sent(channel.write(buffer).get()); // again while a write was partial
        }
        return true;
    }
    // docs:end write-all

    private static void closeAndQuiesce(AsynchronousSocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            Disconnects.log.debug("closing {}: {}", channel, e.toString());
        }
    }

    private boolean backOff(Throwable failure) {
        try {
            acceptFailures.recordAndBackOff(failure instanceof ExecutionException e ? e.getCause() : failure);
            return true;
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public Supervision supervision() {
        return ConnectionSupervisor.available();
    }

    @Override
    public void stopAccepting() {
        Listeners.close(listener);
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        acceptor.join(); // and with it every connection thread
        group.shutdown();
        group.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        groupThreads.join();
    }
}
