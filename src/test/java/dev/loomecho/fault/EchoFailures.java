package dev.loomecho.fault;

import dev.loomecho.engine.Connection;
import java.net.SocketAddress;

/** Makes the echo fail unexpectedly, through {@link FaultyEcho}'s test hook, for tests outside this package. */
public final class EchoFailures {

    private EchoFailures() {
    }

    /**
     * Until closed, every faulty echo on a connection from {@code client} (the client's local address),
     * and its TLS handshake on the blocking engines, throws an {@link IllegalStateException}, as a bug in
     * the server would; other connections are untouched.
     */
    public static AutoCloseable failEchoesFrom(SocketAddress client) {
        FaultyEcho.beforeEcho = (Connection connection) -> {
            if (client.equals(connection.remote())) {
                throw new IllegalStateException("injected by the test: a server-side bug in the echo of " + connection);
            }
        };
        return () -> FaultyEcho.beforeEcho = null;
    }
}
