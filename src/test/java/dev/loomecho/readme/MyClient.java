package dev.loomecho.readme;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Stands in for the user's own client in the README's examples: one connection, a read timeout, reads until the reply is whole. */
public class MyClient implements AutoCloseable {
    private final Socket socket;

    public MyClient(String host, int port) throws IOException {
        this(new Socket(host, port));
    }

    /** Over a socket made elsewhere (ReadmeExamplesTest's TLS client passes an SSLSocket). */
    public MyClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(1_000);
    }

    public String roundTrip(String message) throws IOException {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        socket.getOutputStream().write(bytes);
        InputStream in = socket.getInputStream();
        byte[] reply = new byte[bytes.length];
        for (int n = 0; n < reply.length; ) {
            int read = in.read(reply, n, reply.length - n);
            if (read < 0) {
                throw new IOException("closed after " + n + " bytes");
            }
            n += read;
        }
        return new String(reply, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
