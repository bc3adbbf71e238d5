package dev.loomecho;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLHandshakeException;

/** A plain blocking client for tests: every read has a timeout, so a broken server fails a test instead of hanging it. */
public final class TestClient implements AutoCloseable {

    private static final int READ_TIMEOUT_MILLIS = 15_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public TestClient(InetSocketAddress address) throws IOException {
        this(connected(address));
    }

    /** A client over a socket already connected (a TLS one, say); every read is given the timeout. */
    public TestClient(Socket connected) throws IOException {
        socket = connected;
        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    private static Socket connected(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, READ_TIMEOUT_MILLIS);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    public static TestClient connect(EchoServer server) throws IOException {
        return new TestClient(server.address());
    }

    public Socket socket() {
        return socket;
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Sends on a separate virtual thread, so a large payload cannot deadlock against its own echo. */
    public CompletableFuture<Void> sendInBackground(byte[] bytes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofVirtual().name("test-sender").start(() -> {
            try {
                send(bytes);
                done.complete(null);
            } catch (IOException e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    public byte[] readExactly(int length) throws IOException {
        return in.readNBytes(length);
    }

    /** Sends {@code bytes} and returns exactly that many echoed bytes (fewer only if the server closed). */
    public byte[] echo(byte[] bytes) throws IOException {
        CompletableFuture<Void> sent = sendInBackground(bytes);
        byte[] echoed = readExactly(bytes.length);
        sent.join();
        return echoed;
    }

    /**
     * Whether the server turned this connection away: it ends the stream (an accept-and-close) or resets
     * it (a refusal in the kernel or by {@code WSAAccept}) without sending anything; over TLS, the
     * handshake the read begins ends so.
     */
    public boolean isRefused() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketException | SSLHandshakeException reset) {
            return true;
        }
    }

    /** True if {@code bytes} came back exactly; false if the server refused or ended the connection instead. */
    public boolean echoOrRefused(byte[] bytes) throws IOException {
        try {
            return Arrays.equals(bytes, echo(bytes));
        } catch (SocketException | CompletionException refused) {
            return false;
        }
    }

    public byte[] readToEnd() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        return all.toByteArray();
    }

    /** Returns -1 when the server has closed the connection; blocks up to the read timeout otherwise. */
    public int read() throws IOException {
        return in.read();
    }

    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Closes with SO_LINGER 0, so the server sees a TCP reset instead of an orderly FIN. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    public static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
