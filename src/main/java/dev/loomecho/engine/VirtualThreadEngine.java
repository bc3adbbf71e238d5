package dev.loomecho.engine;

import dev.loomecho.ServerConfig;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.FaultyEcho;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;

/**
 * Thread-per-connection, the model the seeds call simple but unscalable — made scalable: every
 * connection gets its own virtual thread doing plain blocking reads and writes. A blocked virtual
 * thread parks in the JDK's poller and gives its carrier back, which is why select, WSAAsyncSelect and
 * WSAEventSelect are no longer needed: the runtime does that multiplexing for us.
 *
 * <p>The trick: the accept loop runs on the thread that owns a {@link StructuredTaskScope} and forks
 * each connection into it (only the owner may fork). The scope supervises every connection; its
 * {@code join()} returns when the last one has ended, so shutdown leaves no thread behind.
 */
public final class VirtualThreadEngine implements EchoEngine {

    private final ServerConfig config;
    private final Connections connections;
    private final AcceptFailures acceptFailures = new AcceptFailures();
    private ServerSocketChannel listener;
    private Thread supervisor;

    public VirtualThreadEngine(ServerConfig config, Connections connections) {
        this.config = config;
        this.connections = connections;
    }

    @Override
    public InetSocketAddress start() throws IOException {
        listener = Listeners.bind(ServerSocketChannel.open(), config, ServerSocketChannel::bind);
        supervisor = Thread.ofPlatform().name("loom-echo-accept").daemon().start(this::superviseConnections);
        return (InetSocketAddress) listener.getLocalAddress();
    }

    private void superviseConnections() {
        // awaitAll: one connection failing must never cancel its siblings, and it keeps no Subtask
        // objects, so memory stays flat over millions of short connections.
        try (var scope = StructuredTaskScope.open(Joiner.awaitAll(), cf -> cf
                .withName("loom-echo-connections")
                .withThreadFactory(Thread.ofVirtual().name("loom-echo-conn-", 1).factory()))) {
            acceptUntilClosed(scope);
            scope.join(); // the server closes every connection before it waits on us, so this returns
        } catch (InterruptedException e) {
            // Forced stop: closing the scope interrupts every connection thread, which closes its socket.
            Thread.currentThread().interrupt();
        }
    }

    private void acceptUntilClosed(StructuredTaskScope<Object, Void> scope) throws InterruptedException {
        while (true) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (ClosedChannelException closed) {
                return; // stopAccepting() closed the listener
            } catch (IOException e) {
                acceptFailures.recordAndBackOff(e);
                continue;
            }
            Connection connection = connections.admit(channel);
            if (connection != null) {
                scope.fork(() -> serve(connection, channel));
            }
        }
    }

    /** Read what arrived, write all of it back, until EOF. Each call blocks only this virtual thread. */
    private void serve(Connection connection, SocketChannel channel) {
        ReadBuffer readBuffer = new ReadBuffer(config.bufferSize());
        try {
            ByteBuffer buffer = readBuffer.forReading();
            int n;
            while ((n = channel.read(buffer)) >= 0) {
                connection.received(n);
                buffer.flip();
                Faults faults = connections.faults();
                if (faults.isNone()) {
                    while (buffer.hasRemaining()) {
                        connection.sent(channel.write(buffer)); // a write may be partial: loop until all is out
                    }
                } else if (!FaultyEcho.echo(connection, buffer, channel::write, faults)) {
                    return; // a fault closed, reset or stalled the connection
                }
                readBuffer.adapt(n);
                buffer = readBuffer.forReading();
            }
            // EOF: the peer half-closed, everything it sent has been echoed; closing sends our FIN.
        } catch (Exception e) {
            connection.fail(e); // before the close below, or fail() would take the error for a close from elsewhere
        } finally {
            connection.close();
        }
    }

    @Override
    public void stopAccepting() {
        Listeners.close(listener);
    }

    @Override
    public void awaitTermination() throws InterruptedException {
        supervisor.join();
    }
}
