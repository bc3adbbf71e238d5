package dev.loomecho.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * One TLS connection on the selector thread: the echo of {@link SelectorEngine}, with an
 * {@link SSLEngine} between the socket and the bytes. On a thread of its own TLS is an {@code SSLSocket}
 * and the same four-line loop; here the reactor must keep every state the socket hid, and each readiness
 * event runs {@link #pump()} until the engine needs something the socket cannot give yet:
 * <pre>
 *   handshake   NEED_UNWRAP  read a record, unwrap it     whole record? go on : wait for OP_READ (BUFFER_UNDERFLOW)
 *               NEED_WRAP    wrap a handshake message     written? go on : wait for OP_WRITE
 *               NEED_TASK    run the delegated tasks (key exchange, certificate checks), here on this thread
 *   echo        decrypted bytes held?  wrap them, write   written? go on : wait for OP_WRITE (back-pressure)
 *               none held              unwrap the next record, reading when it is not whole (as above)
 *   close       close_notify read (CLOSED)  wrap ours, write it, close the socket
 *               EOF without close_notify    close (a truncation: everything decrypted was echoed)
 * </pre>
 * Three buffers, each one TLS record: {@code netIn} (read, not yet unwrapped), {@code appIn} (decrypted,
 * not yet echoed), {@code netOut} (encrypted, not yet written). The socket is read only when
 * {@code appIn} is empty and {@code netOut} written, so a peer that does not read its echo is not read
 * either, as on the plain selector; an echo takes at most {@code --buffer-size} bytes (a smaller record
 * when that is below TLS's 16 KiB). A record can be larger than what the engine asked for at first, so
 * a BUFFER_OVERFLOW or a full {@code netIn} grows the buffer to the session's current size.
 *
 * <p>Delegated tasks run on the selector thread: they are the CPU work of the handshake, which the
 * one thread would do anyway; a server with many handshakes at once would hand them to other threads
 * and resume the session when they end. Bytes count as received when the echo takes them from the
 * TLS layer, and as sent when the record that carries them is written, as on the {@code SSLSocket} path.
 */
final class TlsSession implements SelectorEngine.Handler {

    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final Connections connections;
    /** The most one echo takes from the TLS layer: {@code --buffer-size}, as on the {@code SSLSocket} path. */
    private final int maxEcho;
    private Connection connection;
    private SelectionKey key;
    private ByteBuffer netIn;  // filling: what was read and not yet unwrapped
    private ByteBuffer appIn;  // filling: decrypted, not yet echoed
    private ByteBuffer netOut; // draining: encrypted, not yet written
    private int unwritten;     // echoed bytes in netOut not yet written: counted as sent when they are
    private boolean handshaken;

    TlsSession(SocketChannel channel, SSLEngine engine, Connections connections, int maxEcho) {
        this.channel = channel;
        this.engine = engine;
        this.connections = connections;
        this.maxEcho = maxEcho;
        this.netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        this.netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize()).flip();
    }

    void start(Connection connection, SelectionKey key) throws SSLException {
        this.connection = connection;
        this.key = key;
        engine.beginHandshake();
    }

    @Override
    public void onReadable() {
        pump();
    }

    @Override
    public void onWritable() {
        pump();
    }

    @Override
    public void end(Throwable failure) {
        if (failure == null) {
            connection.close();
        } else {
            connection.fail(failure); // out of memory, say: this connection ends, the selector goes on
        }
    }

    // docs:begin pump
    /** Does all the engine can do with what the socket holds now; returns having set what to wait for. */
    private void pump() {
        try {
            while (true) {
                if (!flush()) {
                    key.interestOps(SelectionKey.OP_WRITE);
                    return;
                }
                if (engine.isOutboundDone()) {
                    connection.close(); // our close_notify is out
                    return;
                }
                switch (engine.getHandshakeStatus()) {
                    case NEED_TASK -> runDelegatedTasks();
                    case NEED_WRAP -> wrap(NOTHING);
                    default -> { // NEED_UNWRAP, or not handshaking: the echo
                        if (appIn.position() > 0) {
                            echo();
                        } else if (!unwrap()) {
                            key.interestOps(SelectionKey.OP_READ);
                            return;
                        }
                    }
                }
            }
        } catch (SSLException e) {
            failTls(e);
        } catch (IOException e) {
            connection.fail(e);
        }
    }
    // docs:end pump

    /**
     * Wraps decrypted bytes back, at most {@code maxEcho} of them: the echo. They count as received now,
     * as sent once written; so what the server has taken and not echoed is at most one echo's worth.
     */
    private void echo() throws SSLException {
        appIn.flip();
        int end = appIn.limit();
        appIn.limit(Math.min(end, appIn.position() + maxEcho));
        SSLEngineResult result = wrap(appIn);
        appIn.limit(end);
        appIn.compact();
        connection.received(result.bytesConsumed());
        unwritten += result.bytesConsumed();
    }

    private SSLEngineResult wrap(ByteBuffer source) throws SSLException {
        netOut.compact();
        SSLEngineResult result;
        try {
            result = engine.wrap(source, netOut);
            if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = grown(netOut, engine.getSession().getPacketBufferSize());
                result = engine.wrap(source, netOut);
            }
        } finally {
            netOut.flip();
        }
        noteFinished(result);
        return result;
    }

    /**
     * Unwraps the next record from {@code netIn}, reading from the socket while it holds less than a
     * whole one. Returns false when the socket has nothing more for now: then wait for OP_READ.
     */
    private boolean unwrap() throws IOException {
        if (engine.isInboundDone()) {
            return false; // close_notify came; closeOutbound() makes the next turn wrap ours
        }
        netIn.flip();
        SSLEngineResult result;
        try {
            result = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
        }
        noteFinished(result);
        switch (result.getStatus()) {
            case OK -> {
                return true;
            }
            case BUFFER_OVERFLOW -> { // a record larger than appIn, which is empty: grow it
                appIn = grown(appIn, engine.getSession().getApplicationBufferSize());
                return true;
            }
            case CLOSED -> {
                engine.closeOutbound(); // the peer's close_notify: everything it sent is echoed; answer with ours
                return true;
            }
            default -> { // BUFFER_UNDERFLOW: not a whole record yet
                if (!netIn.hasRemaining()) {
                    netIn = grown(netIn, engine.getSession().getPacketBufferSize());
                }
                int n = channel.read(netIn);
                if (n < 0) {
                    endOfStream();
                    return false;
                }
                return n > 0;
            }
        }
    }

    /** Writes what {@code netOut} holds; returns whether all of it is out. */
    private boolean flush() throws IOException {
        while (netOut.hasRemaining()) {
            if (channel.write(netOut) == 0) {
                return false;
            }
        }
        if (unwritten > 0) {
            connection.sent(unwritten);
            unwritten = 0;
        }
        return true;
    }

    private void runDelegatedTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private void noteFinished(SSLEngineResult result) {
        if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
            handshaken = true;
        }
    }

    /**
     * The peer closed TCP without close_notify: mid-handshake it left, else it truncated (or is a client
     * that does not send close_notify). Every byte decrypted has been echoed: close.
     */
    private void endOfStream() {
        if (!handshaken) {
            connections.handshakeFailed();
        }
        Disconnects.log.debug("{}: end of stream {}", connection, handshaken ? "without close_notify" : "in the handshake");
        connection.close();
    }

    /**
     * A failed handshake or a bad record: the peer's doing. The engine may still hold its flight (a
     * ServerHello it made before the failure surfaced) ahead of the alert that says why: wrap until it has
     * nothing more (bounded), write what the socket takes at once, then close.
     */
    private void failTls(SSLException failure) {
        if (!handshaken && !connection.isClosed()) {
            connections.handshakeFailed();
        }
        try {
            for (int records = 0; records < 8; records++) {
                SSLEngineResult result = wrap(NOTHING);
                if (result.getStatus() == SSLEngineResult.Status.CLOSED || result.bytesProduced() == 0) {
                    break;
                }
            }
            while (netOut.hasRemaining() && channel.write(netOut) > 0) {
                // as much as fits now; a peer that does not read gets the close without the alert
            }
        } catch (IOException | RuntimeException alertNotSent) {
            // the peer is gone or the engine has nothing to say: the close below is what matters
        }
        connection.fail(failure);
    }

    private static ByteBuffer grown(ByteBuffer buffer, int size) {
        ByteBuffer larger = ByteBuffer.allocate(Math.max(size, buffer.capacity() * 2));
        buffer.flip();
        return larger.put(buffer);
    }
}
