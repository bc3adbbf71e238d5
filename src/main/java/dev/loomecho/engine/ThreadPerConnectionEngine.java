package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import dev.loomecho.Supervision;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.FaultyEcho;
import dev.loomecho.tls.ServerTls;
import dev.loomecho.tls.TlsChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
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
 *
 * <p>TLS is the same loop over an {@code SSLSocket}'s decrypted stream ({@link TlsChannel}): a second
 * listener and accept thread, and a handshake before the loop; the socket does the record layer.
 */
public final class ThreadPerConnectionEngine implements EchoEngine {

    private final ServerConfig config;
    private final Connections connections;
    private final ThreadFactory connectionThreads;
    private final ServerTls tls; // null: no TLS listener
    private final AcceptFailures acceptFailures = new AcceptFailures();
    private ServerSocketChannel listener;
    private ServerSocketChannel tlsListener;
    private Thread acceptThread;
    private Thread tlsAcceptThread;

    private ThreadPerConnectionEngine(ServerConfig config, Connections connections, ServerTls tls,
                                      ThreadFactory connectionThreads) {
        this.config = config;
        this.connections = connections;
        this.tls = tls;
        this.connectionThreads = connectionThreads;
    }

    // docs:begin thread-factories
    /** {@code --engine virtual}: one virtual thread per connection; {@code tls} null for no TLS listener. */
    public static ThreadPerConnectionEngine onVirtualThreads(ServerConfig config, Connections connections, ServerTls tls) {
        return new ThreadPerConnectionEngine(config, connections, tls,
                Thread.ofVirtual().name("loom-echo-conn-", 1).factory());
    }

    /** {@code --engine platform}: one platform (OS) thread per connection, as in the seeds. */
    public static ThreadPerConnectionEngine onPlatformThreads(ServerConfig config, Connections connections, ServerTls tls) {
        return new ThreadPerConnectionEngine(config, connections, tls,
                Thread.ofPlatform().name("loom-echo-conn-", 1).daemon().factory());
    }
    // docs:end thread-factories

    @Override
    public InetSocketAddress start() throws IOException {
        listener = Listeners.bind(ServerSocketChannel.open(), config, ServerSocketChannel::bind);
        if (tls != null) {
            try {
                tlsListener = Listeners.bind(ServerSocketChannel.open(), config.tlsAddress(), config.reusePort(),
                        "listen for TLS", ServerSocketChannel::bind);
            } catch (IOException | RuntimeException | Error e) {
                Listeners.close(listener); // a failed start leaves nothing bound
                throw e;
            }
            tlsAcceptThread = Thread.ofPlatform().name("loom-echo-accept-tls").daemon()
                    .start(() -> superviseConnections(tlsListener, true));
        }
        acceptThread = Thread.ofPlatform().name("loom-echo-accept").daemon().start(() -> superviseConnections(listener, false));
        return (InetSocketAddress) listener.getLocalAddress();
    }

    @Override
    public InetSocketAddress tlsAddress() throws IOException {
        return tlsListener == null ? null : (InetSocketAddress) tlsListener.getLocalAddress();
    }

    /** One accept loop per listener, each on its own thread and supervisor (only a supervisor's owner may fork). */
    private void superviseConnections(ServerSocketChannel listener, boolean secure) {
        String name = secure ? "loom-echo-tls-connections" : "loom-echo-connections";
        try (var supervisor = ConnectionSupervisor.open(name, connectionThreads)) {
            acceptUntilClosed(listener, secure, supervisor);
            supervisor.join(); // the server closes every connection before it waits on us, so this returns
        } catch (InterruptedException e) {
            // Forced stop: closing the supervisor interrupts every connection thread, which closes its socket.
            Thread.currentThread().interrupt();
        } finally {
            Listeners.close(listener); // however the loop ended, the port must not stay bound and unserved
        }
    }

    private void acceptUntilClosed(ServerSocketChannel listener, boolean secure, ConnectionSupervisor supervisor)
            throws InterruptedException {
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
            Connection connection = secure ? connections.admitTls(channel) : connections.admit(channel);
            if (connection != null && !fork(supervisor, connection, channel, secure)) {
                acceptFailures.backOff(); // out of threads: as with descriptors, pause rather than spin
            }
        }
    }

    /** Starts the connection's thread; if the JVM or the OS has none to give, ends only this connection. */
    private boolean fork(ConnectionSupervisor supervisor, Connection connection, SocketChannel channel, boolean secure) {
        try {
            Runnable plain = () -> serve(connection, channel); // the first lambda here: lambda$fork$0 in thread dumps
            supervisor.fork(secure ? () -> serveTls(connection, channel) : plain);
            return true;
        } catch (OutOfMemoryError | RejectedExecutionException noThread) { // "unable to create native thread"
            connection.abandon(noThread);
            return false;
        }
    }

    // docs:begin serve-tls
    /** TLS: the handshake on this connection's thread, then the same loop over the decrypted stream. */
    private void serveTls(Connection connection, SocketChannel channel) {
        TlsChannel decrypted = TlsHandshake.complete(connection, channel, tls, connections);
        if (decrypted != null) {
            serve(connection, decrypted);
        } else {
            connection.readBuffer().release(); // the handshake closed the connection; no one else holds the buffer
        }
    }
    // docs:end serve-tls

    // docs:begin serve
    /** Read what arrived, write all of it back, until EOF. Each call blocks only this connection's thread. */
    private void serve(Connection connection, ByteChannel channel) {
        ReadBuffer readBuffer = connection.readBuffer();
        try {
            ByteBuffer buffer = readBuffer.forReading();
            int n;
            while ((n = channel.read(buffer)) >= 0) {
                connection.received(n);
                buffer.flip();
                if (!writeAll(connection, channel, buffer)) {
                    return; // a fault closed, reset or stalled the connection
                }
                readBuffer.adapt(n);
                buffer = readBuffer.forReading();
            }
            // EOF: the peer half-closed, everything it sent has been echoed; closing sends our FIN
            channel.close(); // (over TLS, close_notify first)
        } catch (Exception | OutOfMemoryError e) {
            connection.fail(e); // before the close below, or fail() would take the error for a close from elsewhere
        } finally {
            connection.close();
            readBuffer.release(); // this thread was the buffer's only user, and it is done
        }
    }
    // docs:end serve

    // docs:begin write-all
    /** Writes all of the buffer back, through the faults if the connection has any; false if one ended it. */
    private static boolean writeAll(Connection connection, ByteChannel channel, ByteBuffer buffer) throws Exception {
        Faults faults = connection.faults();
        if (!faults.isNone()) {
            return FaultyEcho.echo(connection, buffer, channel::write, faults); // fault injection, for testing clients
        }
        while (buffer.hasRemaining()) {
            connection.sent(channel.write(buffer)); // a write may be partial: loop until all is out
        }
        return true;
    }
    // docs:end write-all

    @Override
    public void stopAccepting() {
        Listeners.close(listener);
        if (tlsListener != null) {
            Listeners.close(tlsListener);
        }
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        acceptThread.join();
        if (tlsAcceptThread != null) {
            tlsAcceptThread.join();
        }
    }

    @Override
    public Supervision supervision() {
        return ConnectionSupervisor.available();
    }
}
