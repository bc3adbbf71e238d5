package dev.loomecho.engine;

import dev.loomecho.Supervision;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * One I/O model's way of accepting and serving connections. Everything else — admission, counters,
 * idle timeout, buffer sizing, the shutdown sequence — is shared and lives outside the engines, so
 * each implementation shows only how its model waits for I/O.
 *
 * <p>The server drives an engine through three steps: {@link #start()}; later {@link #stopAccepting()};
 * then, once every connection has been closed (by its peer, by the drain, or by force),
 * {@link #awaitTermination()}.
 */
public interface EchoEngine {

    /** Binds the listener and begins accepting. Returns the bound address, so port 0 reads back as real. */
    InetSocketAddress start() throws IOException;

    /** The TLS listener's bound address after {@link #start()}; null for an engine or server without one. */
    default InetSocketAddress tlsAddress() throws IOException {
        return null;
    }

    /** Closes the listener. Connections already admitted go on being served. */
    void stopAccepting();

    /**
     * Returns when every thread this engine started has ended. Called after all connections are closed,
     * so it must return promptly; called again if an interrupt cut the previous call short.
     */
    void awaitTermination() throws InterruptedException;

    /** What supervises the connection threads; {@link Supervision#NONE} for engines without such threads. */
    default Supervision supervision() {
        return Supervision.NONE;
    }
}
