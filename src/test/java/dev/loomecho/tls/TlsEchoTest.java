package dev.loomecho.tls;

import static dev.loomecho.tls.GeneratedCertificatesTest.cause;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.Stats;
import dev.loomecho.TestClient;
import dev.loomecho.ThreadDumps;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.TlsFaults;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The TLS listener of each engine that has one, seen from a Java client: echo, counters, the TLS faults (where the engine injects faults). */
@ParameterizedClass(name = "engine {0}")
@EnumSource(value = Engine.class, names = {"VIRTUAL", "PLATFORM", "SELECTOR"})
@Timeout(60)
class TlsEchoTest {

    @Parameter
    Engine engine;

    private EchoServer start(TlsConfig tls, Faults faults) throws IOException {
        assumeTrue(faults.isNone() || engine.faultSupport() != Engine.FaultSupport.NONE, "the " + engine.cliName()
                + " engine injects no faults");
        return EchoServer.builder().port(0).engine(engine).tls(tls).faults(faults).drainTimeout(Duration.ZERO).start();
    }

    private EchoServer start() throws IOException {
        return start(TlsConfig.defaults(), Faults.NONE);
    }

    private static SSLSocket connect(EchoServer server) throws IOException {
        return JavaTlsClient.connect(server.tls().clientContext(), "localhost", server.tlsPort());
    }

    @Test
    void echoesOverTlsByteForByteBesideThePlainListener() throws Exception {
        try (EchoServer server = start()) {
            assertTrue(server.tlsPort() > 0 && server.tlsPort() != server.port());
            try (TestClient tls = new TestClient(connect(server)); TestClient plain = TestClient.connect(server)) {
                byte[] mebibyte = TestClient.randomBytes(1024 * 1024, 18);
                mebibyte[0] = 0;
                mebibyte[mebibyte.length - 1] = 0;
                assertArrayEquals(mebibyte, tls.echo(mebibyte));
                byte[] nuls = new byte[3];
                assertArrayEquals(nuls, tls.echo(nuls));
                assertArrayEquals(new byte[] {7, 0, 7}, plain.echo(new byte[] {7, 0, 7}));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().active() == 0);
            Stats stats = server.stats();
            assertEquals(2, stats.accepted());
            assertEquals(1, stats.tls().accepted());
            assertEquals(1024 * 1024 + 3, stats.tls().bytesIn(), "decrypted bytes, not record bytes");
            assertEquals(1024 * 1024 + 3, stats.tls().bytesOut());
            assertEquals(1024 * 1024 + 6, stats.bytesIn(), "the totals include TLS");
            assertEquals(0, stats.tls().handshakeFailures());
            assertEquals(0, stats.errors());
        }
    }

    @Test
    void theClientsHalfCloseGetsEveryEchoThenTheServersCloseNotify() throws Exception {
        try (EchoServer server = start(); SSLSocket socket = connect(server)) {
            byte[] sent = TestClient.randomBytes(100_000, 3);
            socket.getOutputStream().write(sent);
            socket.shutdownOutput(); // TLS 1.3: close_notify, and the other direction stays open
            socket.setSoTimeout(15_000);
            assertArrayEquals(sent, socket.getInputStream().readAllBytes(), "then -1: the server's close_notify");
        }
    }

    @Test
    void aClientThatDistrustsTheCertificateCountsAsAFailedHandshakeNotAnError() throws Exception {
        try (EchoServer server = start()) {
            ServerTls stranger = ServerTls.create(TlsConfig.defaults());
            assertThrows(SSLHandshakeException.class,
                    () -> JavaTlsClient.connect(stranger.clientContext(), "localhost", server.tlsPort()));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().handshakeFailures() == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().active() == 0);
            assertEquals(0, server.stats().errors());
        }
    }

    @Test
    void aPlainClientOnTheTlsPortFailsItsHandshakeAndLeavesTheServerServing() throws Exception {
        try (EchoServer server = start()) {
            try (TestClient plain = new TestClient(new java.net.InetSocketAddress(server.address().getAddress(), server.tlsPort()))) {
                plain.send("hello\n".getBytes());
                byte[] answer = plain.readToEnd(); // a TLS alert, then the close
                assertTrue(answer.length > 0 && answer[0] == 0x15, "an alert record (type 21)");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().handshakeFailures() == 1);
            try (TestClient tls = new TestClient(connect(server))) {
                assertArrayEquals(new byte[] {1}, tls.echo(new byte[] {1}));
            }
        }
    }

    @Test
    void theHandshakeDelayHoldsTheServerHelloBack() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(),
                Faults.NONE.withTls(TlsFaults.NONE.withHandshakeDelay(Duration.ofMillis(500))))) {
            long started = System.nanoTime();
            try (SSLSocket socket = connect(server)) {
                long millis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(millis >= 490, "the handshake took " + millis + " ms");
                assertArrayEquals(new byte[] {2}, new TestClient(socket).echo(new byte[] {2}));
            }
        }
    }

    @Test
    void aStalledHandshakeNeverAnswersAndTheIdleTimeoutEndsIt() throws Exception {
        assumeTrue(engine.faultSupport() != Engine.FaultSupport.NONE, "the " + engine.cliName() + " engine injects no faults");
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).tls(TlsConfig.defaults())
                .faults(Faults.NONE.withTls(TlsFaults.NONE.withStallHandshake(true)))
                .idleTimeout(Duration.ofSeconds(2)).drainTimeout(Duration.ZERO).start()) {
            SSLSocket socket = (SSLSocket) server.tls().clientContext().getSocketFactory()
                    .createSocket("localhost", server.tlsPort());
            try (socket) {
                socket.setSoTimeout(700);
                assertThrows(SocketTimeoutException.class, socket::startHandshake, "no ServerHello within 700 ms");
                assertEquals(1, server.stats().tls().active(), "accepted and held open");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().active() == 0);
        }
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).tls(TlsConfig.defaults())
                .faults(Faults.NONE.withTls(TlsFaults.NONE.withStallHandshake(true)))
                .idleTimeout(Duration.ofMillis(500)).drainTimeout(Duration.ZERO).start();
             SSLSocket socket = (SSLSocket) server.tls().clientContext().getSocketFactory()
                     .createSocket("localhost", server.tlsPort())) {
            socket.setSoTimeout(10_000);
            assertThrows(IOException.class, socket::startHandshake, "the idle timeout closed it");
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().idleClosed() == 1);
            assertEquals(0, server.stats().tls().handshakeFailures(), "a stall the server made is no failed handshake");
        }
    }

    /**
     * A client that opens TCP and never sends its ClientHello, or sends part of one and stops, is an idle
     * peer like any other: the idle timeout closes it on every engine (the selector's reactor included),
     * it counts as idle, not as a failed handshake, and it leaves no thread or buffer behind.
     */
    @Test
    void aClientThatNeverFinishesItsClientHelloIsClosedByTheIdleTimeoutAndLeavesNothingHeld() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).tls(TlsConfig.defaults())
                .idleTimeout(Duration.ofMillis(500)).drainTimeout(Duration.ZERO).start();
             TestClient silent = new TestClient(server.tlsAddress());
             TestClient partial = new TestClient(server.tlsAddress())) {
            partial.send(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); // a record header announcing 512 bytes, then 1
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().tls().active() == 2);
            long started = System.nanoTime();
            assertEquals(-1, silent.read(), "the server closes the silent connection");
            assertEquals(-1, partial.read(), "and the one whose ClientHello never ends");
            long waitedMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
            assertTrue(waitedMillis >= 300, "closed after " + waitedMillis + " ms, well before the 500 ms timeout");
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().idleClosed() == 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bufferBytesInUse() == 0
                    && ThreadDumps.countThreadsNamed("loom-echo-conn-") == 0);
            Stats stats = server.stats();
            assertEquals(0, stats.tls().active());
            assertEquals(0, stats.tls().handshakeFailures(), "an idle peer, not a failed handshake");
            assertEquals(0, stats.errors());
            try (TestClient tls = new TestClient(connect(server))) {
                assertArrayEquals(new byte[] {0, 1}, tls.echo(new byte[] {0, 1}), "and the listener serves on");
            }
        }
    }

    /**
     * Bytes that are no ClientHello — plain HTTP, NULs, noise, a record too large for TLS, a handshake
     * message of no known type — fail that one handshake each, counted as such and not as a server error,
     * while a TLS connection in the middle of a bulk echo on the same server carries on unharmed.
     */
    @Test
    void garbageInsteadOfAClientHelloFailsOnlyThatHandshake() throws Exception {
        byte[] tooLarge = new byte[1024];
        System.arraycopy(new byte[] {0x16, 0x03, 0x01, (byte) 0xff, (byte) 0xff}, 0, tooLarge, 0, 5);
        List<byte[]> garbage = List.of(
                "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                new byte[16 * 1024],
                TestClient.randomBytes(16 * 1024, 42),
                tooLarge,
                new byte[] {0x16, 0x03, 0x01, 0x00, 0x04, 99, 0x00, 0x00, 0x00});
        try (EchoServer server = start(); TestClient busy = new TestClient(connect(server))) {
            byte[] bulk = TestClient.randomBytes(1024 * 1024, 7);
            bulk[0] = 0;
            CompletableFuture<Void> sending = busy.sendInBackground(bulk); // unread echo: the server is held mid-stream
            for (int i = 0; i < garbage.size(); i++) {
                try (TestClient junk = new TestClient(server.tlsAddress())) {
                    junk.send(garbage.get(i));
                    junk.readToEnd(); // an alert, then the close
                } catch (SocketException resetWithJunkUnread) {
                    // the server closed with some of the junk unread, so the kernel reset: the close is what counts
                }
                int failures = i + 1;
                await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().handshakeFailures() == failures);
            }
            assertArrayEquals(bulk, busy.readExactly(bulk.length), "the other connection's echo, every byte");
            sending.join();
            assertArrayEquals(new byte[] {0, 9, 0}, busy.echo(new byte[] {0, 9, 0}));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().active() == 1);
            assertEquals(0, server.stats().errors(), "the peers' doing, not the server's");
        }
    }

    /**
     * Running out of memory in a handshake ends that one connection, at once, as an error, and gives its
     * read buffer back; the next handshake succeeds. (The certificate runs out of memory when the TLS layer
     * encodes it to send it, which the JDK lets through as the Error it is.)
     */
    @Test
    void aHandshakeThatRunsOutOfMemoryEndsOnlyItsConnection() throws Exception {
        CertificateAuthority authority = CertificateAuthority.generate();
        HeldCertificate held = authority.issueServerCertificate(CertificateAuthority.LOCAL_NAMES);
        AtomicBoolean outOfMemory = new AtomicBoolean(true);
        ServerKey key = new ServerKey(held.privateKey(), List.of(new OutOfMemoryCertificate(held.certificate(), outOfMemory::get)));
        try (EchoServer server = start(TlsConfig.builder().key(key).build(), Faults.NONE)) {
            long started = System.nanoTime();
            assertThrows(IOException.class, () -> JavaTlsClient.connect(authority.clientContext(), "localhost", server.tlsPort()));
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(millis < 10_000, "refused after " + millis + " ms: not at once, but by the client's 15 s read timeout?");
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().active() == 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bufferBytesInUse() == 0);
            assertEquals(1, server.stats().tls().errors(), "the server's failure, not the peer's");
            outOfMemory.set(false);
            try (SSLSocket socket = JavaTlsClient.connect(authority.clientContext(), "localhost", server.tlsPort())) {
                assertArrayEquals(new byte[] {0, 7}, new TestClient(socket).echo(new byte[] {0, 7}));
            }
        }
    }

    @Test
    void aHandshakeDelayLongerThanTheIdleTimeoutIsNotTakenForIdleness() throws Exception {
        assumeTrue(engine.faultSupport() != Engine.FaultSupport.NONE, "the " + engine.cliName() + " engine injects no faults");
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).tls(TlsConfig.defaults())
                .faults(Faults.NONE.withTls(TlsFaults.NONE.withHandshakeDelay(Duration.ofMillis(1200))))
                .idleTimeout(Duration.ofMillis(300)).drainTimeout(Duration.ZERO).start()) {
            long started = System.nanoTime();
            try (SSLSocket socket = connect(server)) {
                long millis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(millis >= 1190, "the handshake took " + millis + " ms");
                assertArrayEquals(new byte[] {3, 0}, new TestClient(socket).echo(new byte[] {3, 0}));
            }
            assertEquals(0, server.stats().tls().idleClosed(), "the server's own delay is progress");
        }
    }

    /**
     * The JDK's {@code SSLSocket} takes a FIN without close_notify for an end of stream unless the JVM runs
     * with {@code -Dcom.sun.net.ssl.requireCloseNotify=true}, which this JVM cannot set after the fact;
     * {@code TlsClientsTest} sees the truncation from clients that report it (Python, openssl, that JVM flag).
     * Here: the bytes before the threshold arrive, then the connection ends.
     */
    @Test
    void truncateAfterEndsTheConnectionAfterThatManyBytes() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withTruncateAfter(5)));
             SSLSocket socket = connect(server)) {
            socket.getOutputStream().write("0123456789".getBytes());
            assertArrayEquals("01234".getBytes(), socket.getInputStream().readAllBytes());
        }
    }

    @Test
    void closeAfterOverTlsEndsInOrderWithCloseNotify() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withCloseAfter(5));
             SSLSocket socket = connect(server)) {
            socket.getOutputStream().write("0123456789".getBytes());
            assertArrayEquals("01234".getBytes(), new TestClient(socket).readToEnd(), "then an orderly -1");
        }
    }

    @Test
    void truncateAfterLeavesPlainConnectionsAlone() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withTruncateAfter(1)));
             TestClient plain = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {1, 2, 3}, plain.echo(new byte[] {1, 2, 3}));
        }
    }

    @Test
    void theExpiredCertificateFaultFailsTheClientsVerificationWithTheExpiryReason() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withCertExpired(true)))) {
            SSLHandshakeException refused = assertThrows(SSLHandshakeException.class, () -> connect(server));
            assertEquals(CertPathValidatorException.BasicReason.EXPIRED,
                    cause(refused, CertPathValidatorException.class).getReason());
        }
    }

    @Test
    void certificateFaultsAreSetAtRuntimeForNewConnections() throws Exception {
        assumeTrue(engine.faultSupport() != Engine.FaultSupport.NONE, "the " + engine.cliName() + " engine injects no faults");
        try (EchoServer server = start()) {
            try (SSLSocket valid = connect(server)) {
                server.faults(Faults.NONE.withTls(TlsFaults.NONE.withCertWrongHost(true)));
                SSLHandshakeException refused = assertThrows(SSLHandshakeException.class, () -> connect(server));
                assertTrue(cause(refused, CertificateException.class).getMessage().contains("localhost"));
                assertArrayEquals(new byte[] {4}, new TestClient(valid).echo(new byte[] {4}), "an open connection goes on");
            }
            server.faults(Faults.NONE);
            try (SSLSocket again = connect(server)) {
                assertArrayEquals(new byte[] {5}, new TestClient(again).echo(new byte[] {5}));
            }
        }
    }

    @Test
    void theOrdinaryFaultsApplyToTheDecryptedStream() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withSlicing(3, Duration.ZERO).withLatency(
                Duration.ofMillis(300), Duration.ZERO));
             SSLSocket socket = connect(server)) {
            long started = System.nanoTime();
            socket.getOutputStream().write("abcdefgh".getBytes());
            byte[] first = new byte[8];
            int n = socket.getInputStream().read(first);
            assertTrue((System.nanoTime() - started) / 1_000_000 >= 290, "latency before the echo");
            assertEquals(3, n, "the first slice is a record of its own");
            assertArrayEquals("defgh".getBytes(), socket.getInputStream().readNBytes(5));
        }
    }

    @Test
    void closeLeavesNoTlsListenerOrThreadBehind() throws Exception {
        int port;
        try (EchoServer server = start(); SSLSocket socket = connect(server)) {
            port = server.tlsPort();
            assertArrayEquals(new byte[] {6}, new TestClient(socket).echo(new byte[] {6}));
            server.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith("loom-echo-accept") || t.getName().equals("loom-echo-selector")));
        }
        try (java.net.ServerSocket rebound = new java.net.ServerSocket()) {
            rebound.bind(new java.net.InetSocketAddress("127.0.0.1", port)); // the port is free again
        }
    }

    @Test
    void mutualTlsWithAClientCertificateFromTheServersCa() throws Exception {
        try (EchoServer server = start(TlsConfig.builder().clientAuth(ClientAuth.NEED).build(), Faults.NONE)) {
            HeldCertificate client = server.tls().issueClientCertificate("client");
            try (SSLSocket socket = JavaTlsClient.connect(server.tls().clientContext(client), "localhost",
                    server.tlsPort(), List.of())) {
                assertArrayEquals(new byte[] {8}, new TestClient(socket).echo(new byte[] {8}));
            }
        }
    }
}
