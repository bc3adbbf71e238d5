package dev.loomecho.engine;

import dev.loomecho.fault.FaultyEcho;
import dev.loomecho.fault.TlsFaults;
import dev.loomecho.tls.ServerTls;
import dev.loomecho.tls.TlsChannel;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLSocket;

/**
 * The server side of a TLS handshake on the connection's own thread, for the blocking engines: the
 * handshake faults first, then an {@code SSLSocket} layered over the accepted channel, presenting the
 * certificate the connection's faults choose. What comes out is a channel for the ordinary echo loop.
 */
final class TlsHandshake {

    private TlsHandshake() {
    }

    /**
     * Completes the handshake; returns the decrypted channel, or null when it did not complete (a fault
     * stalled it, or either side refused the other, or the peer left, or the server failed), the
     * connection then closed. A failed handshake is the peer's doing: counted as such, logged at debug.
     * The server's own failure (out of memory, say) is an error of that one connection, as in the loop.
     */
    // docs:begin complete
    static TlsChannel complete(Connection connection, SocketChannel channel, ServerTls tls, Connections connections) {
        try {
            TlsFaults faults = connection.faults().tls();
            if (!FaultyEcho.beforeHandshake(connection, faults)) {
                connection.close();
                return null;
            }
            SSLSocket socket = tls.serverSocket(channel.socket(), faults.certificate());
            connection.securedBy(socket);
            socket.startHandshake();
            return new TlsChannel(socket);
        } catch (IOException e) {
            if (!connection.isClosed()) { // else the idle timeout or the shutdown ended it, and counted it
                connections.handshakeFailed();
            }
            Disconnects.log.debug("{}: TLS handshake failed: {}", connection, e.toString());
            connection.close();
            return null;
        } catch (InterruptedException e) {
            connection.close(); // a forced shutdown: the supervisor interrupts every connection thread
            return null;
        } catch (RuntimeException | OutOfMemoryError e) {
            // The JDK's TLS code turns exceptions into alerts but lets an Error through: uncaught, out of
            // memory here would end the thread and leave the socket open, unanswered, until the idle timeout.
            connection.fail(e);
            return null;
        }
    }
    // docs:end complete
}
