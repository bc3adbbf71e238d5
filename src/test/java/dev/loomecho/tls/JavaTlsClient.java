package dev.loomecho.tls;

import java.io.IOException;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/** A Java TLS client for the tests: checks the host name as HTTPS does, and echoes random bytes, NULs included. */
final class JavaTlsClient {

    private JavaTlsClient() {
    }

    /** Connects to {@code host}, verifying the chain and the host name; ALPN offered when {@code alpn} is non-empty. */
    static SSLSocket connect(SSLContext context, String host, int port, List<String> alpn, String... protocols)
            throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(host, port);
        socket.setSoTimeout(15_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        if (!alpn.isEmpty()) {
            parameters.setApplicationProtocols(alpn.toArray(String[]::new));
        }
        if (protocols.length > 0) {
            parameters.setProtocols(protocols);
        }
        socket.setSSLParameters(parameters);
        try {
            socket.startHandshake();
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return socket;
    }

    static SSLSocket connect(SSLContext context, String host, int port) throws IOException {
        return connect(context, host, port, List.of());
    }

    /** Sends 64 KiB of random bytes with NULs in them and returns what came back. */
    static byte[][] echoRandomBytes(SSLSocket socket) throws IOException {
        byte[] sent = new byte[64 * 1024];
        new Random(18).nextBytes(sent);
        sent[0] = 0;
        sent[sent.length - 1] = 0;
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                socket.getOutputStream().write(sent);
                socket.getOutputStream().flush();
            } catch (IOException ignored) {
                // the reader's short read reports it
            }
        });
        byte[] received = socket.getInputStream().readNBytes(sent.length);
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new byte[][] {sent, received};
    }
}
