package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import dev.loomecho.Supervision;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.FaultyEcho;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;

/**
 * Thread-per-connection, the seeds' first model: every connection gets its own thread doing plain
 * blocking reads and writes. Two engines run this one file and differ only in the threads they fork:
 * <ul>
 *   <li>{@code platform} — OS threads, the seeds' own "before": each idle connection holds a kernel thread
 *       and its stack, and thousands of them keep the scheduler busy switching.</li>
 *   <li>{@code virtual} (the default) — the same code, made scalable: a blocked virtual thread parks in
 *       the JDK's poller and gives its carrier back, which is why select, WSAAsyncSelect and
 *       WSAEventSelect are no longer needed: the runtime does that multiplexing for us.</li>
 * </ul>
 *
 * <p>The trick: the accept loop runs on the thread that owns a {@link ConnectionSupervisor} — a
 * {@code StructuredTaskScope} where the JVM offers it — and forks each connection into it (only the owner
 * may fork). Its {@code join()} returns when the last connection has ended, so shutdown leaves no thread behind.
 */
public final class ThreadPerConnectionEngine implements EchoEngine {

    private final ServerConfig config;
    private final Connections connections;
    private final ThreadFactory connectionThreads;
    private final AcceptFailures acceptFailures = new AcceptFailures();
    private ServerSocketChannel listener;
    private Thread acceptThread;

    private ThreadPerConnectionEngine(ServerConfig config, Connections connections, ThreadFactory connectionThreads) {
        this.config = config;
        this.connections = connections;
        this.connectionThreads = connectionThreads;
    }

    // docs:begin thread-factories
    /** {@code --engine virtual}: one virtual thread per connection. */
    public static ThreadPerConnectionEngine onVirtualThreads(ServerConfig config, Connections connections) {
        return new ThreadPerConnectionEngine(config, connections, Thread.ofVirtual().name("loom-echo-conn-", 1).factory());
    }

    /** {@code --engine platform}: one platform (OS) thread per connection, as in the seeds. */
    public static ThreadPerConnectionEngine onPlatformThreads(ServerConfig config, Connections connections) {
        return new ThreadPerConnectionEngine(config, connections,
                Thread.ofPlatform().name("loom-echo-conn-", 1).daemon().factory());
    }
    // docs:end thread-factories

    @Override
    public InetSocketAddress start() throws IOException {
        listener = Listeners.bind(ServerSocketChannel.open(), config, ServerSocketChannel::bind);
        acceptThread = Thread.ofPlatform().name("loom-echo-accept").daemon().start(this::superviseConnections);
        return (InetSocketAddress) listener.getLocalAddress();
    }

    private void superviseConnections() {
        try (var supervisor = ConnectionSupervisor.open("loom-echo-connections", connectionThreads)) {
            acceptUntilClosed(supervisor);
            supervisor.join(); // the server closes every connection before it waits on us, so this returns
        } catch (InterruptedException e) {
            // Forced stop: closing the supervisor interrupts every connection thread, which closes its socket.
            Thread.currentThread().interrupt();
        } finally {
            Listeners.close(listener); // however the loop ended, the port must not stay bound and unserved
        }
    }

    private void acceptUntilClosed(ConnectionSupervisor supervisor) throws InterruptedException {
        while (true) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException closed) {
                return; // stopAccepting() closed the listener
            } catch (IOException | OutOfMemoryError e) {
                acceptFailures.recordAndBackOff(e);
                continue;
            }
            Connection connection = connections.admit(channel);
            if (connection != null && !fork(supervisor, connection, channel)) {
                acceptFailures.backOff(); // out of threads: as with descriptors, pause rather than spin
            }
        }
    }

    /** Starts the connection's thread; if the JVM or the OS has none to give, ends only this connection. */
    private boolean fork(ConnectionSupervisor supervisor, Connection connection, SocketChannel channel) {
        try {
            supervisor.fork(() -> serve(connection, channel));
            return true;
        } catch (OutOfMemoryError | RejectedExecutionException noThread) { // "unable to create native thread"
            connection.abandon(noThread);
            return false;
        }
    }

    // docs:begin serve
    /** Read what arrived, write all of it back, until EOF. Each call blocks only this connection's thread. */
    private void serve(Connection connection, SocketChannel channel) {
        ReadBuffer readBuffer = connection.readBuffer();
        try {
            ByteBuffer buffer = readBuffer.forReading(connection.faults());
            int n;
            while ((n = channel.read(buffer)) >= 0) {
                connection.received(n);
                buffer.flip();
                Faults faults = connection.faults();
                if (faults.isNone()) {
                    while (buffer.hasRemaining()) {
                        connection.sent(channel.write(buffer)); // a write may be partial: loop until all is out
                    }
                } else if (!FaultyEcho.echo(connection, buffer, channel::write, faults)) {
                    return; // a fault closed, reset or stalled the connection
                }
                readBuffer.adapt(n);
                buffer = readBuffer.forReading(connection.faults());
            }
            // EOF: the peer half-closed, everything it sent has been echoed; closing sends our FIN.
        } catch (Exception | OutOfMemoryError e) {
            connection.fail(e); // before the close below, or fail() would take the error for a close from elsewhere
        } finally {
            connection.close();
            readBuffer.release(); // this thread was the buffer's only user, and it is done
        }
    }
    // docs:end serve

    @Override
    public void stopAccepting() {
        Listeners.close(listener);
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        acceptThread.join();
    }

    @Override
    public Supervision supervision() {
        return ConnectionSupervisor.available();
    }
}
