package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.fault.Faults;
import dev.loomecho.fault.TlsFaults;
import dev.loomecho.readme.MyClient;
import dev.loomecho.tls.TlsConfig;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * The README's examples, verbatim (README.md quotes the marked regions; the extension example is {@code
 * dev.loomecho.readme.MyClientTest}): if these break, so does the README.
 */
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

    // docs:begin fault-example
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
    // docs:end fault-example

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
        // docs:begin tls-example
        try (EchoServer echo = EchoServer.builder().port(0).tls(TlsConfig.defaults()).start()) {
            SSLContext trust = echo.tls().clientContext();           // trusts the CA made at start, and only it
            try (MyTlsClient client = new MyTlsClient(trust, "localhost", echo.tlsPort())) {
                assertEquals("hello, tls", client.roundTrip("hello, tls"));
            }
            echo.faults(Faults.NONE.withTls(TlsFaults.NONE.withCertWrongHost(true)));
            assertThrows(SSLHandshakeException.class,                // the host name check refuses it
                    () -> new MyTlsClient(trust, "localhost", echo.tlsPort()).roundTrip("ping"));
        }
        // docs:end tls-example
    }

    /** {@link MyClient} over TLS, checking the host name as an HTTPS client does. */
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
