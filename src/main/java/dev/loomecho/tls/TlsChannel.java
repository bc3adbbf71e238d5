package dev.loomecho.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import javax.net.ssl.SSLSocket;

/**
 * An {@code SSLSocket}'s decrypted stream as a blocking {@link ByteChannel}, so that the blocking engines'
 * one echo loop serves TLS as it serves a {@code SocketChannel}: the loop reads and writes, the socket
 * encrypts and decrypts. Reads return what one TLS record held (up to the buffer's room); a write writes
 * everything it is given. {@link #close()} sends close_notify before the FIN.
 *
 * <p>The socket's streams take byte arrays, the engines' buffers are direct: bytes pass through a scratch
 * array that follows the size the loop asks for (it grows and shrinks with the read buffer), so an idle
 * connection keeps only a small one.
 */
public final class TlsChannel implements ByteChannel {

    private final SSLSocket socket;
    private final InputStream in;
    private final OutputStream out;
    private byte[] scratch = new byte[0];

    /** Over a socket whose handshake has completed. */
    public TlsChannel(SSLSocket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public SSLSocket socket() {
        return socket;
    }

    @Override
    public int read(ByteBuffer destination) throws IOException {
        int room = destination.remaining();
        if (destination.hasArray()) {
            int n = in.read(destination.array(), destination.arrayOffset() + destination.position(), room);
            if (n > 0) {
                destination.position(destination.position() + n);
            }
            return n;
        }
        byte[] bytes = scratch(room);
        int n = in.read(bytes, 0, room);
        if (n > 0) {
            destination.put(bytes, 0, n);
        }
        return n;
    }

    @Override
    public int write(ByteBuffer source) throws IOException {
        int n = source.remaining();
        if (source.hasArray()) {
            out.write(source.array(), source.arrayOffset() + source.position(), n);
            source.position(source.limit());
            return n;
        }
        byte[] bytes = scratch(n);
        source.get(bytes, 0, n);
        out.write(bytes, 0, n);
        return n;
    }

    /** At least {@code size} bytes; a new array when the old one is too small or four times too large. */
    private byte[] scratch(int size) {
        if (scratch.length < size || scratch.length > 4 * size) {
            scratch = new byte[size];
        }
        return scratch;
    }

    @Override
    public boolean isOpen() {
        return !socket.isClosed();
    }

    /** TLS's orderly close: close_notify, then the FIN. Only the connection's own thread may call it. */
    @Override
    public void close() throws IOException {
        socket.close();
    }
}
