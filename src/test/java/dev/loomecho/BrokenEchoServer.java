package dev.loomecho;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A TCP "echo" server with one deliberate flaw, for tests of the verifiers ({@code load}, {@code client}):
 * they must report each flaw, never success. Every connection gets a virtual thread; the server echoes
 * what it reads in pieces of up to 4 KiB, closes when the client half-closes (after its flaw, if that
 * is where it strikes), and {@link #close()} ends every connection and thread.
 */
public final class BrokenEchoServer implements AutoCloseable {

    /** What goes wrong, per connection. */
    private interface Flaw {
        /** Serves one connection; {@code closed} is released when the server closes. */
        void serve(InputStream in, OutputStream out, CountDownLatch closed) throws IOException, InterruptedException;
    }

    /** Small socket buffers, so a client that stops reading soon finds its own writes blocked. */
    private static final int SOCKET_BUFFER = 64 * 1024;

    private final ServerSocket listener = new ServerSocket();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Flaw flaw;
    private final Thread acceptor;

    private BrokenEchoServer(Flaw flaw) throws IOException {
        this.flaw = flaw;
        listener.setReceiveBufferSize(SOCKET_BUFFER); // inherited by accepted sockets
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
        this.acceptor = Thread.ofVirtual().name("broken-echo-accept").start(this::acceptLoop);
    }

    /** Echoes each piece it reads, then writes {@code extra} after it: "hello" comes back "hello\r\n". */
    public static BrokenEchoServer appendingToEveryEcho(byte[] extra) throws IOException {
        return new BrokenEchoServer((in, out, closed) -> {
            byte[] buffer = new byte[4096];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.write(extra);
            }
        });
    }

    /** Echoes faithfully, but when the client half-closes it sends {@code extra} before it closes. */
    public static BrokenEchoServer appendingBeforeClose(byte[] extra) throws IOException {
        return new BrokenEchoServer((in, out, closed) -> {
            in.transferTo(out);
            out.write(extra);
        });
    }

    /** Echoes faithfully except the byte at {@code offset} of each connection's stream, which it inverts. */
    public static BrokenEchoServer flippingByteAt(long offset) throws IOException {
        return new BrokenEchoServer((in, out, closed) -> {
            byte[] buffer = new byte[4096];
            long position = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (offset >= position && offset < position + n) {
                    buffer[(int) (offset - position)] ^= (byte) 0xFF;
                }
                out.write(buffer, 0, n);
                position += n;
            }
        });
    }

    /**
     * Echoes the first {@code bytes} of each connection, then neither reads nor writes nor closes until
     * the server is closed (loom-echo's {@code --stall-after}, or a hung peer).
     */
    public static BrokenEchoServer stallingAfter(long bytes) throws IOException {
        return new BrokenEchoServer((in, out, closed) -> {
            byte[] buffer = new byte[(int) Math.min(4096, Math.max(1, bytes))];
            long left = bytes;
            int n;
            while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
                out.write(buffer, 0, n);
                left -= n;
            }
            closed.await();
        });
    }

    public int port() {
        return listener.getLocalPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), port());
    }

    private void acceptLoop() {
        while (true) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                socket.setSendBufferSize(SOCKET_BUFFER);
            } catch (IOException e) {
                // keep the default
            }
            sockets.add(socket);
            threads.add(Thread.ofVirtual().name("broken-echo-conn").start(() -> serve(socket)));
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            flaw.serve(socket.getInputStream(), socket.getOutputStream(), closed);
        } catch (IOException | InterruptedException e) {
            // the client hung up, or the server is closing: this connection is done
        } finally {
            sockets.remove(socket);
            threads.remove(Thread.currentThread());
        }
    }

    /** Closes the listener and every connection, and waits (bounded) for their threads. */
    @Override
    public void close() throws IOException {
        closed.countDown();
        listener.close();
        try {
            if (!acceptor.join(Duration.ofSeconds(10))) {
                throw new IllegalStateException("the broken server's accept thread did not end");
            }
            for (Socket socket : sockets) { // after the acceptor ended: no socket is added any more
                socket.close();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (Thread thread : threads) {
                if (!thread.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                    throw new IllegalStateException("a broken server's connection thread did not end");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the sockets are closed; the threads end without us
        }
    }
}
