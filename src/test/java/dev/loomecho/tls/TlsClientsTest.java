package dev.loomecho.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.fault.Faults;
import dev.loomecho.fault.TlsFaults;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real TLS clients against the embedded server: openssl s_client, Python's ssl module and a JDK client
 * in a JVM of its own. Each sees the echo byte for byte (NULs included) and each TLS fault in its own way
 * (faults on the virtual engine); ALPN, protocols and client certificates on every engine that serves TLS.
 */
@Timeout(120)
class TlsClientsTest {

    @TempDir
    Path dir;

    private EchoServer start(TlsConfig tls, Faults faults) throws Exception {
        return start(Engine.VIRTUAL, tls, faults);
    }

    private EchoServer start(Engine engine, TlsConfig tls, Faults faults) throws Exception {
        EchoServer server = EchoServer.builder().port(0).engine(engine).tls(tls).faults(faults)
                .drainTimeout(Duration.ZERO).start();
        Files.writeString(dir.resolve("ca.pem"), server.tls().caCertificatePem());
        return server;
    }

    // --- openssl s_client ---

    @Test
    void opensslEchoesBytesWithNulsVerifyingTheServerWithTheExportedCa() throws Exception {
        byte[] sent = "one\0two\0\0three\n".getBytes(StandardCharsets.ISO_8859_1);
        // close-after: the server ends in order once everything is echoed, so s_client (which ignores its EOF) ends too
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withCloseAfter(sent.length))) {
            Result result = run(sent, "openssl", "s_client", "-quiet", "-verify_return_error", "-CAfile", "ca.pem",
                    "-verify_hostname", "localhost", "-connect", "127.0.0.1:" + server.tlsPort());
            assertEquals(0, result.exitCode(), result.err());
            assertEquals(new String(sent, StandardCharsets.ISO_8859_1), new String(result.out(), StandardCharsets.ISO_8859_1));
        }
    }

    /**
     * On every TLS engine, the selector's {@code SSLEngine} included (which injects no close-after fault to
     * end s_client with): s_client stays until its input ends ({@code -no_ign_eof}), which comes once the
     * whole echo is in, and takes no line of the data for a command ({@code -nocommands}: Q, R, k...).
     */
    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"VIRTUAL", "PLATFORM", "SELECTOR"})
    void opensslEchoesEveryByteValueOnEachEngineVerifyingTheServerAndItsNameWithTheExportedCa(Engine engine)
            throws Exception {
        byte[] sent = new byte[4 * 256];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) i; // every byte value, NULs, newlines, 'Q' and 'R' at the start of a line included
        }
        try (EchoServer server = start(engine, TlsConfig.defaults(), Faults.NONE)) {
            Result result = runUntilEchoed(sent, "openssl", "s_client", "-quiet", "-no_ign_eof", "-nocommands",
                    "-verify_return_error", "-CAfile", "ca.pem", "-verify_hostname", "localhost",
                    "-connect", "127.0.0.1:" + server.tlsPort());
            assertArrayEquals(sent, result.out(), result.err());
            assertEquals(0, result.exitCode(), result.err());
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().bytesOut() == sent.length);
        }
    }

    /**
     * A new handshake inside an open connection: TLS 1.2's renegotiation, TLS 1.3's key update (asking the
     * server to update its keys too). The SSLSocket handles them unseen; the reactor's state machine must
     * take handshake messages after it thought the handshake done. s_client's commands R and K start them.
     */
    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"VIRTUAL", "PLATFORM", "SELECTOR"})
    void opensslRenegotiatesInTls12AndUpdatesKeysInTls13MidStreamAndTheEchoGoesOn(Engine engine) throws Exception {
        try (EchoServer server = start(engine, TlsConfig.builder().protocols("TLSv1.2").build(), Faults.NONE);
             Interactive client = new Interactive("openssl", "s_client", "-quiet", "-no_ign_eof", "-verify_return_error",
                     "-CAfile", "ca.pem", "-connect", "127.0.0.1:" + server.tlsPort())) {
            client.send("before\0\n");
            client.awaitOutput("before\0\n");
            client.send("R\n"); // a command, not data: s_client renegotiates
            client.awaitError("RENEGOTIATING");
            client.send("after\0\n");
            client.awaitOutput("before\0\nafter\0\n");
            Result result = client.end();
            assertEquals(0, result.exitCode(), result.err());
            assertEquals(4, result.err().split("verify return:1", -1).length - 1,
                    "the server's chain of two verified in each of two full handshakes:\n" + result.err());
        }
        try (EchoServer server = start(engine, TlsConfig.defaults(), Faults.NONE);
             Interactive client = new Interactive("openssl", "s_client", "-quiet", "-no_ign_eof", "-verify_return_error",
                     "-CAfile", "ca.pem", "-connect", "127.0.0.1:" + server.tlsPort())) {
            client.send("before\n");
            client.awaitOutput("before\n");
            client.send("K\n"); // KeyUpdate, update_requested: the server must answer with its own
            client.awaitError("KEYUPDATE");
            client.send("after\n");
            client.awaitOutput("before\nafter\n");
            assertEquals(0, client.end().exitCode());
        }
    }

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"VIRTUAL", "PLATFORM", "SELECTOR"})
    void opensslNegotiatesAlpnAndIsRefusedWithoutAProtocolInCommon(Engine engine) throws Exception {
        try (EchoServer server = start(engine, TlsConfig.builder().alpn("h2", "http/1.1").build(), Faults.NONE)) {
            String agreed = opensslSession(server, "-alpn", "http/1.1,h2");
            assertTrue(agreed.contains("ALPN protocol: h2"), agreed);
            String refused = opensslSession(server, "-alpn", "spdy/3");
            assertTrue(refused.contains("no application protocol"), refused);
            String none = opensslSession(server);
            assertTrue(none.contains("handshake failure"), none);
        }
    }

    @Test
    void opensslReportsTheTruncationAndNotTheOrderlyClose() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withTruncateAfter(4)))) {
            Result truncated = run("0123456789".getBytes(StandardCharsets.US_ASCII), "openssl", "s_client", "-quiet",
                    "-CAfile", "ca.pem", "-connect", "127.0.0.1:" + server.tlsPort());
            assertEquals("0123", new String(truncated.out(), StandardCharsets.US_ASCII));
            assertTrue(truncated.err().contains("unexpected eof while reading"), truncated.err());
        }
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withCloseAfter(4))) {
            Result orderly = run("0123456789".getBytes(StandardCharsets.US_ASCII), "openssl", "s_client", "-quiet",
                    "-CAfile", "ca.pem", "-connect", "127.0.0.1:" + server.tlsPort());
            assertEquals("0123", new String(orderly.out(), StandardCharsets.US_ASCII));
            assertFalse(orderly.err().contains("unexpected eof"), orderly.err());
        }
    }

    @Test
    void opensslSeesTheWrongHostAndTheExpiryEachForWhatItIs() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withCertWrongHost(true)))) {
            String session = opensslSession(server, "-verify_hostname", "localhost");
            assertTrue(session.contains("Verify return code: 62 (hostname mismatch)"), session);
            server.faults(Faults.NONE.withTls(TlsFaults.NONE.withCertExpired(true)));
            session = opensslSession(server, "-verify_hostname", "localhost");
            assertTrue(session.contains("Verify return code: 10 (certificate has expired)"), session);
        }
    }

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"VIRTUAL", "PLATFORM", "SELECTOR"})
    void opensslCannotUseTls13WhenTheServerOffersOnlyTls12(Engine engine) throws Exception {
        try (EchoServer server = start(engine, TlsConfig.builder().protocols("TLSv1.2").build(), Faults.NONE)) {
            assertTrue(opensslSession(server).contains("Protocol  : TLSv1.2"));
            String refused = opensslSession(server, "-tls1_3");
            assertTrue(refused.contains("alert protocol version"), refused);
        }
    }

    /** A handshake and nothing else: s_client's report of the session (or of its failure), stdout and stderr. */
    private String opensslSession(EchoServer server, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-CAfile", "ca.pem",
                "-connect", "127.0.0.1:" + server.tlsPort()));
        command.addAll(List.of(options));
        Result result = run(new byte[0], command.toArray(String[]::new));
        return new String(result.out(), StandardCharsets.UTF_8) + result.err();
    }

    // --- Python's ssl module ---

    private static final String PYTHON_CLIENT = """
            import argparse, socket, ssl, time
            arguments = argparse.ArgumentParser()
            arguments.add_argument("port", type=int)
            arguments.add_argument("--cert", nargs=2)
            arguments.add_argument("--timeout", type=float, default=10)
            options = arguments.parse_args()
            context = ssl.create_default_context(cafile="ca.pem")
            if options.cert:
                context.load_cert_chain(*options.cert)
            started = time.monotonic()
            try:
                with socket.create_connection(("localhost", options.port), timeout=options.timeout) as raw:
                    with context.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False) as tls:
                        handshake_ms = (time.monotonic() - started) * 1000
                        sent = bytes(range(256)) * 16  # every byte value, NULs included
                        tls.sendall(sent)
                        echoed = b""
                        while len(echoed) < len(sent) and (chunk := tls.recv(65536)):
                            echoed += chunk
                        print("echoed" if echoed == sent else "wrong echo", tls.version(), "handshake %d ms" % handshake_ms)
            except ssl.SSLCertVerificationError as e:
                print("SSLCertVerificationError", e.verify_message)
            except Exception as e:
                print(type(e).__name__, e)
            """;

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"VIRTUAL", "PLATFORM", "SELECTOR"})
    void pythonWithAClientCertificateIsServedUnderNeedAndWithoutOneIsRefused(Engine engine) throws Exception {
        try (EchoServer server = start(engine, TlsConfig.builder().clientAuth(ClientAuth.NEED).build(), Faults.NONE)) {
            server.tls().issueClientCertificate("python").writePem(dir, "python");
            String withCertificate = python(server, "--cert", "python.pem", "python-key.pem");
            assertTrue(withCertificate.startsWith("echoed TLSv1.3"), withCertificate);
            String without = python(server);
            assertTrue(without.startsWith("SSLError") && without.contains("CERTIFICATE_REQUIRED"), without);
        }
    }

    @Test
    void pythonTimesOutOnAStalledHandshakeAndWaitsOutADelayedOne() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withStallHandshake(true)))) {
            String stalled = python(server, "--timeout", "1");
            assertTrue(stalled.startsWith("TimeoutError") || stalled.startsWith("timeout"), stalled);
            server.faults(Faults.NONE.withTls(TlsFaults.NONE.withHandshakeDelay(Duration.ofMillis(1500))));
            String delayed = python(server, "--timeout", "10");
            assertTrue(delayed.startsWith("echoed TLSv1.3 handshake "), delayed);
            long handshakeMillis = Long.parseLong(delayed.strip().replaceAll(".* handshake (\\d+) ms", "$1"));
            assertTrue(handshakeMillis >= 1490, "the handshake took " + handshakeMillis + " ms");
        }
    }

    @Test
    void pythonRefusesTheExpiredAndTheWrongHostCertificateEachForItsReason() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withCertExpired(true)))) {
            assertEquals("SSLCertVerificationError certificate has expired", python(server).strip());
            server.faults(Faults.NONE.withTls(TlsFaults.NONE.withCertWrongHost(true)));
            String wrongHost = python(server).strip();
            assertEquals("SSLCertVerificationError Hostname mismatch, certificate is not valid for 'localhost'.", wrongHost);
            server.faults(Faults.NONE);
            assertTrue(python(server).startsWith("echoed TLSv1.3"), "the valid certificate again");
        }
    }

    /** The stall seen from Python: no answer to its ClientHello, then the idle timeout closes the connection. */
    @Test
    void pythonSeesAStalledHandshakeClosedByTheIdleTimeout() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).tls(TlsConfig.defaults())
                .faults(Faults.NONE.withTls(TlsFaults.NONE.withStallHandshake(true)))
                .idleTimeout(Duration.ofSeconds(1)).drainTimeout(Duration.ZERO).start()) {
            Files.writeString(dir.resolve("ca.pem"), server.tls().caCertificatePem());
            String closed = python(server, "--timeout", "30");
            // the ClientHello lies unread in the server's socket, so its close is a reset (an EOF were it read)
            assertTrue(closed.startsWith("ConnectionResetError") || closed.startsWith("SSLEOFError"), closed);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().tls().idleClosed() == 1);
        }
    }

    @Test
    void pythonRaisesSslEofErrorOnTheTruncation() throws Exception {
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withTruncateAfter(1000)))) {
            String truncated = python(server);
            assertTrue(truncated.startsWith("SSLEOFError"), truncated);
        }
    }

    /** Runs {@link #PYTHON_CLIENT} against the TLS port; what it printed, stdout then stderr. */
    private String python(EchoServer server, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", "-c", PYTHON_CLIENT, String.valueOf(server.tlsPort())));
        command.addAll(List.of(options));
        Result result = run(new byte[0], command.toArray(String[]::new));
        return new String(result.out(), StandardCharsets.UTF_8) + result.err();
    }

    // --- a JDK client in a JVM of its own, where close_notify can be required ---

    private static final String JAVA_CLIENT = """
            import java.io.*;
            import java.security.cert.*;
            import java.security.KeyStore;
            import javax.net.ssl.*;

            public class Client {
                public static void main(String[] args) throws Exception {
                    KeyStore trust = KeyStore.getInstance("PKCS12");
                    trust.load(null, null);
                    try (InputStream ca = new FileInputStream(args[1])) {
                        trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(ca));
                    }
                    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
                    factory.init(trust);
                    SSLContext context = SSLContext.getInstance("TLS");
                    context.init(null, factory.getTrustManagers(), null);
                    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", Integer.parseInt(args[0]))) {
                        socket.getOutputStream().write("0123456789".getBytes());
                        InputStream in = socket.getInputStream();
                        StringBuilder got = new StringBuilder();
                        try {
                            for (int b; (b = in.read()) >= 0; ) {
                                got.append((char) b);
                            }
                            System.out.println("end of stream after " + got);
                        } catch (SSLException e) {
                            System.out.println(e.getClass().getSimpleName() + " after " + got + ": " + e.getMessage());
                        }
                    }
                }
            }
            """;

    @Test
    void aJdkClientRequiringCloseNotifyReportsTheTruncationAndTheDefaultOneDoesNot() throws Exception {
        Path source = Files.writeString(dir.resolve("Client.java"), JAVA_CLIENT);
        String java = ProcessHandle.current().info().command().orElseThrow();
        try (EchoServer server = start(TlsConfig.defaults(), Faults.NONE.withTls(TlsFaults.NONE.withTruncateAfter(4)))) {
            String port = String.valueOf(server.tlsPort());
            Result strict = run(new byte[0], java, "-Dcom.sun.net.ssl.requireCloseNotify=true", source.toString(), port, "ca.pem");
            assertEquals("SSLProtocolException after 0123: Remote host terminated the connection",
                    new String(strict.out(), StandardCharsets.UTF_8).strip(), strict.err());
            Result lenient = run(new byte[0], java, source.toString(), port, "ca.pem");
            assertEquals("end of stream after 0123", new String(lenient.out(), StandardCharsets.UTF_8).strip(), lenient.err());
        }
    }

    // --- running them ---

    private record Result(int exitCode, byte[] out, String err) {
    }

    /** Runs {@code command} in the temporary directory with {@code input} on its stdin, bounded to 60 s. */
    private Result run(byte[] input, String... command) throws IOException, InterruptedException {
        Process process = start(command);
        CompletableFuture<String> err = stderr(process);
        try (var stdin = process.getOutputStream()) {
            stdin.write(input);
        }
        byte[] out = process.getInputStream().readAllBytes();
        return finish(process, out, err, command);
    }

    /**
     * Runs {@code command} with {@code input} on its stdin, which stays open until as many bytes as it holds
     * have come out (at most 60 s), then ends; returns everything it printed.
     */
    private Result runUntilEchoed(byte[] input, String... command) throws IOException, InterruptedException {
        try (Interactive client = new Interactive(command)) {
            client.send(input);
            client.awaitOutput(input);
            return client.end();
        }
    }

    /** A client process held open: what goes to its stdin is up to the test, its output gathers as it comes. */
    private final class Interactive implements AutoCloseable {
        private final String[] command;
        private final Process process;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();
        private final Thread outReader;
        private final Thread errReader;

        Interactive(String... command) {
            this.command = command;
            process = start(command);
            outReader = Thread.ofVirtual().start(() -> gather(process.getInputStream(), out));
            errReader = Thread.ofVirtual().start(() -> gather(process.getErrorStream(), err));
        }

        private static void gather(InputStream from, ByteArrayOutputStream into) {
            byte[] chunk = new byte[8192];
            try {
                for (int n; (n = from.read(chunk)) >= 0; ) {
                    synchronized (into) {
                        into.write(chunk, 0, n);
                    }
                }
            } catch (IOException ended) {
                // the process is gone: what it printed is gathered
            }
        }

        private static byte[] bytes(ByteArrayOutputStream stream) {
            synchronized (stream) {
                return stream.toByteArray();
            }
        }

        void send(byte[] bytes) throws IOException {
            process.getOutputStream().write(bytes);
            process.getOutputStream().flush();
        }

        void send(String text) throws IOException {
            send(text.getBytes(StandardCharsets.ISO_8859_1));
        }

        /** Waits (at most 60 s) until stdout holds as many bytes as {@code expected}, then requires them equal. */
        void awaitOutput(byte[] expected) {
            await().atMost(Duration.ofSeconds(60)).until(() -> bytes(out).length >= expected.length || !process.isAlive());
            assertArrayEquals(expected, bytes(out), () -> String.join(" ", command) + ":\n" + errText());
        }

        void awaitOutput(String expected) {
            awaitOutput(expected.getBytes(StandardCharsets.ISO_8859_1));
        }

        /** Waits (at most 60 s) until stderr says {@code text}. */
        void awaitError(String text) {
            await().atMost(Duration.ofSeconds(60)).until(() -> errText().contains(text) || !process.isAlive());
            assertTrue(errText().contains(text), () -> "no \"" + text + "\" from " + String.join(" ", command) + ":\n" + errText());
        }

        private String errText() {
            return new String(bytes(err), StandardCharsets.UTF_8);
        }

        /** Ends its input, which ends it; returns its exit code and everything it printed. */
        Result end() throws IOException, InterruptedException {
            process.getOutputStream().close();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                fail(String.join(" ", command) + " did not finish in 60 s");
            }
            outReader.join(Duration.ofSeconds(10));
            errReader.join(Duration.ofSeconds(10));
            return new Result(process.exitValue(), bytes(out), errText());
        }

        @Override
        public void close() {
            process.destroyForcibly(); // nothing, if end() came first
        }
    }

    private Process start(String... command) {
        try {
            return new ProcessBuilder(command).directory(dir.toFile()).start();
        } catch (IOException missing) {
            return fail(command[0] + " is needed by the TLS client tests (.ci/run installs it): " + missing.getMessage());
        }
    }

    private static CompletableFuture<String> stderr(Process process) {
        CompletableFuture<String> text = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                text.complete(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                text.complete("(stderr lost: " + e + ")");
            }
        });
        return text;
    }

    private static Result finish(Process process, byte[] out, CompletableFuture<String> err, String... command)
            throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in 60 s");
        }
        return new Result(process.exitValue(), out, err.join());
    }
}
