package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.fault.Faults;
import dev.loomecho.fault.TlsFaults;
import dev.loomecho.tls.TlsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/** The README's examples, verbatim apart from the client they stand in for: if these break, so does the README. */
class ReadmeExamplesTest {

    @Test
    void embeddingExample() throws Exception {
        // docs:begin embedding-example
        try (EchoServer echo = EchoServer.builder().port(0).engine(Engine.VIRTUAL).start();
             MyClient client = new MyClient("127.0.0.1", echo.port())) {
            assertEquals("ping", client.roundTrip("ping"));
            assertEquals(1, echo.stats().accepted());
        }
        // docs:end embedding-example
    }

    @Test
    void clientReassemblesAReplySplitIntoSlowChunks() throws Exception {
        try (EchoServer echo = EchoServer.builder().port(0)
                .faults(Faults.NONE.withLatency(Duration.ofMillis(50), Duration.ofMillis(10))
                                   .withSlicing(3, Duration.ofMillis(5)))
                .drainTimeout(Duration.ZERO) // close() need not wait for the connection the stall keeps open
                .start();
             MyClient client = new MyClient("127.0.0.1", echo.port())) {
            assertEquals("hello, world", client.roundTrip("hello, world")); // arrives 3 bytes at a time

            echo.faults(Faults.NONE.withStallAfter(0));                     // now the server goes silent
            assertThrows(SocketTimeoutException.class, () -> client.roundTrip("ping"));
        }
    }

    @Test
    void theFaultExamplesServerClosesWithoutWaitingForTheDefaultDrain() throws Exception {
        EchoServer echo = EchoServer.builder().port(0).drainTimeout(Duration.ZERO).start();
        try (MyClient client = new MyClient("127.0.0.1", echo.port())) {
            echo.faults(Faults.NONE.withStallAfter(0));
            assertThrows(SocketTimeoutException.class, () -> client.roundTrip("ping"));
            long started = System.nanoTime();
            echo.close(); // the stalled connection is still open: with the default drain this takes 2 s
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertTrue(took.compareTo(ServerConfig.defaults().drainTimeout().dividedBy(2)) < 0, "close() took " + took);
        }
    }

    @Test
    void tlsExample() throws Exception {
        try (EchoServer echo = EchoServer.builder().port(0).tls(TlsConfig.defaults()).start()) {
            SSLContext trust = echo.tls().clientContext();           // trusts the CA made at start, and only it
            try (MyTlsClient client = new MyTlsClient(trust, "localhost", echo.tlsPort())) {
                assertEquals("hello, tls", client.roundTrip("hello, tls"));
            }
            echo.faults(Faults.NONE.withTls(TlsFaults.NONE.withCertWrongHost(true)));
            assertThrows(SSLHandshakeException.class,                // the host name check refuses it
                    () -> new MyTlsClient(trust, "localhost", echo.tlsPort()).roundTrip("ping"));
        }
    }

    @org.junit.jupiter.api.Nested
    class MyClientTest {
        @org.junit.jupiter.api.extension.RegisterExtension
        static dev.loomecho.junit.EchoServerExtension echo = dev.loomecho.junit.EchoServerExtension.builder()
                .faults(Faults.NONE.withLatency(Duration.ofMillis(20), Duration.ofMillis(5))
                                   .withSlicing(4, Duration.ofMillis(2)))
                .build();

        @Test
        void survivesALaggyPeerThatSplitsEveryReply() throws Exception {
            MyClient client = new MyClient("127.0.0.1", echo.port());
            assertEquals("hello, loom", client.roundTrip("hello, loom")); // 4 bytes at a time, 20±5 ms late
            assertEquals(1, echo.stats().accepted());
        }
    }

    /** Stands in for the user's own client: one connection, a read timeout, reads until the reply is whole. */
    private static class MyClient implements AutoCloseable {
        final Socket socket;

        MyClient(String host, int port) throws IOException {
            this(new Socket(host, port));
        }

        MyClient(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(1_000);
        }

        String roundTrip(String message) throws IOException {
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

    /** The same over TLS, checking the host name as an HTTPS client does. */
    private static final class MyTlsClient extends MyClient {
        MyTlsClient(SSLContext context, String host, int port) throws IOException {
            super(tlsSocket(context, host, port));
        }

        private static Socket tlsSocket(SSLContext context, String host, int port) throws IOException {
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(host, port);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            return socket;
        }
    }
}
