package dev.loomecho.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

/**
 * The smallest TLS echo over {@link ServerTls}, to test the keys and contexts on their own: accept,
 * layer {@link ServerTls#serverSocket}, echo until EOF. The product's engines do the same job for real.
 */
final class TlsTestServer implements AutoCloseable {

    private final ServerSocket listener;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    /** A handshake the server completed: the ALPN protocol negotiated ("" for none) and the client's certificate subject, if any. */
    record Handshake(String alpn, String clientSubject) {
    }

    /** What each handshake ended with on the server's side: a {@link Handshake}, or the failure. */
    final LinkedBlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();

    private TlsTestServer(ServerSocket listener) {
        this.listener = listener;
    }

    static TlsTestServer start(ServerTls tls, ServedCertificate which, InetAddress address) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.bind(new InetSocketAddress(address, 0));
        TlsTestServer server = new TlsTestServer(listener);
        server.threads.submit(() -> server.acceptLoop(tls, which));
        return server;
    }

    static TlsTestServer start(ServerTls tls) throws IOException {
        return start(tls, ServedCertificate.VALID, InetAddress.getLoopbackAddress());
    }

    int port() {
        return listener.getLocalPort();
    }

    private Void acceptLoop(ServerTls tls, ServedCertificate which) throws IOException {
        while (true) {
            Socket accepted;
            try {
                accepted = listener.accept();
            } catch (SocketException closed) {
                return null;
            }
            threads.submit(() -> echo(tls.serverSocket(accepted, which)));
        }
    }

    private Void echo(SSLSocket socket) throws IOException {
        try (socket) {
            socket.setSoTimeout(15_000);
            try {
                socket.startHandshake();
                String client;
                try {
                    client = socket.getSession().getPeerPrincipal().getName();
                } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
                    client = null;
                }
                outcomes.add(new Handshake(socket.getApplicationProtocol(), client));
            } catch (IOException failed) {
                outcomes.add(failed);
                return null;
            }
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
        }
        return null;
    }

    /** The server side's outcome of the next handshake, waiting for it up to 15 s. */
    Object nextOutcome() throws InterruptedException {
        Object outcome = outcomes.poll(15, TimeUnit.SECONDS);
        if (outcome == null) {
            throw new AssertionError("no handshake ended on the server within 15 s");
        }
        return outcome;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        threads.shutdownNow();
        try {
            if (!threads.awaitTermination(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the test server's threads did not end");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
