package dev.loomecho.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.BrokenEchoServer;
import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.TestClient;
import dev.loomecho.ThreadDumps;
import dev.loomecho.client.StreamingClient;
import dev.loomecho.fault.Faults;
import dev.loomecho.udp.UdpConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** {@code loom-echo client}: the seeds' client done right, piped and typed, over TCP and UDP. */
@Timeout(60)
class ClientTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int client(byte[] stdin, boolean terminal, String... args) {
        Client client = new Client();
        client.in = new ByteArrayInputStream(stdin);
        client.out = new PrintStream(out, true);
        client.err = new PrintStream(err, true);
        client.terminal = terminal;
        return new CommandLine(client).execute(args);
    }

    private String errText() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void pipedStdinComesBackOnStdoutByteForByte() throws IOException {
        byte[] payload = TestClient.randomBytes(3 << 20, 5); // NULs included: no strlen here
        for (Engine engine : new Engine[] {Engine.VIRTUAL, Engine.SELECTOR}) {
            out.reset();
            try (EchoServer server = EchoServer.builder().port(0).engine(engine).start()) {
                assertEquals(0, client(payload, false, "--port", String.valueOf(server.port())), errText());
                assertArrayEquals(payload, out.toByteArray(), engine.cliName());
                assertEquals(payload.length, server.stats().bytesOut());
            }
        }
    }

    @Test
    void emptyInputIsAnEmptyEchoAndSuccess() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            assertEquals(0, client(new byte[0], false, "--port", String.valueOf(server.port())), errText());
            assertEquals(0, out.size());
        }
    }

    @Test
    void aServerThatClosesEarlyIsAShortEchoAndExits1() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).faults(Faults.NONE.withCloseAfter(1000)).start()) {
            int status = client(TestClient.randomBytes(100_000, 1), false, "--port", String.valueOf(server.port()));
            assertEquals(1, status);
            assertTrue(errText().contains("after 1000 bytes echoed") || errText().contains("closed after 1000 of"), errText());
            assertEquals(1000, out.size(), "what did come back is still passed on");
        }
    }

    @Test
    void aWrongEchoIsCaughtAtItsOffsetAndExits1() throws Exception {
        try (BrokenEchoServer corrupting = BrokenEchoServer.flippingByteAt(5_000)) {
            int status = client(TestClient.randomBytes(20_000, 2), false, "--port", String.valueOf(corrupting.port()));
            assertEquals(1, status);
            assertTrue(errText().contains("wrong echo: byte 5000 differs"), errText());
        }
    }

    @Test
    void noServerMeansExit1WithTheAddress() throws IOException {
        int freePort;
        try (ServerSocket probe = new ServerSocket(0)) {
            freePort = probe.getLocalPort();
        }
        assertEquals(1, client(new byte[] {1}, false, "--port", String.valueOf(freePort)));
        assertTrue(errText().contains("cannot connect to 127.0.0.1:" + freePort), errText());
    }

    @Test
    void onATerminalEachLineIsEchoedWithItsRoundTripTime() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            byte[] typed = "hello\nloom\n".getBytes(StandardCharsets.UTF_8);
            assertEquals(0, client(typed, true, "--port", String.valueOf(server.port())), errText());
            String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
            assertEquals(2, lines.length);
            assertTrue(lines[0].matches("hello {2}\\[echo in \\d+\\.\\d{3} ms]"), lines[0]);
            assertTrue(lines[1].startsWith("loom  [echo in "), lines[1]);
        }
    }

    @Test
    void udpSendsPipedInputAsADatagramPerReadAndWritesTheRepliesByteForByte() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).udp(UdpConfig.DEFAULTS.withEnabled(true)).start()) {
            byte[] lines = "one\ntwo\n\nthree\n".getBytes(StandardCharsets.UTF_8);
            assertEquals(0, client(lines, false, "--udp", "--port", String.valueOf(server.udpAddress().orElseThrow().getPort())),
                    errText());
            assertArrayEquals(lines, out.toByteArray());
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().udpEchoed() == 1); // counted after the send
        }
    }

    @Test
    void aUdpReplyThatNeverComesIsATimeoutAndExits1() throws IOException {
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int status = client("ping\n".getBytes(StandardCharsets.UTF_8), false,
                    "--udp", "--timeout", "300ms", "--port", String.valueOf(silent.getLocalPort()));
            assertEquals(1, status);
            assertTrue(errText().contains("no echo of datagram 1 (5 bytes) within 300ms"), errText());
        }
    }

    @Test
    void udpPipedBinaryInputComesBackByteForByteInDatagramsOfUpToSize() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).udp(UdpConfig.DEFAULTS.withEnabled(true)).start()) {
            byte[] binary = TestClient.randomBytes(100_000, 7); // invalid UTF-8, \r, NULs: no text here
            assertEquals(0, client(binary, false, "--udp", "--size", "1000",
                    "--port", String.valueOf(server.udpAddress().orElseThrow().getPort())), errText());
            assertArrayEquals(binary, out.toByteArray());
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().udpEchoed() == 100);
        }
    }

    @Test
    void udpPipedTextWithCarriageReturnsAndInvalidUtf8ComesBackUnchanged() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).udp(UdpConfig.DEFAULTS.withEnabled(true)).start()) {
            byte[] input = {'a', '\r', '\n', (byte) 0xff, (byte) 0xfe, (byte) 0x80, 0, '\n'};
            assertEquals(0, client(input, false, "--udp", "--port", String.valueOf(server.udpAddress().orElseThrow().getPort())),
                    errText());
            assertArrayEquals(input, out.toByteArray());
        }
    }

    @Test
    void udpOnATerminalSendsEachLineAsItsOwnBytes() throws Exception {
        try (DatagramEcho echo = new DatagramEcho(-1)) {
            byte[] typed = {'o', 'n', 'e', '\n', '\n', 't', 'w', 'o', '\r', '\n', (byte) 0xff, '\n'};
            assertEquals(0, client(typed, true, "--udp", "--port", String.valueOf(echo.port())), errText());
            assertEquals(List.of("one", "", "two\r", "\u00ff"), echo.received(), "one datagram per line, without its newline");
            byte[] printed = out.toByteArray();
            assertTrue(startsWith(printed, new byte[] {'o', 'n', 'e', ' ', ' ', '['}), out.toString(StandardCharsets.ISO_8859_1));
            assertTrue(out.toString(StandardCharsets.ISO_8859_1).contains("\ntwo\r  [echo in "), "the reply's own bytes are printed");
            assertTrue(out.toString(StandardCharsets.ISO_8859_1).contains("\n\u00ff  [echo in "), "the reply's own bytes are printed");
        }
    }

    @Test
    void aUdpReplyWithOneByteChangedIsAWrongEchoAndExits1() throws Exception {
        try (DatagramEcho flipping = new DatagramEcho(2)) {
            int status = client(new byte[] {1, 2, 3, 4}, false, "--udp", "--port", String.valueOf(flipping.port()));
            assertEquals(1, status);
            assertTrue(errText().contains("wrong echo of datagram 1 (4 bytes): byte 2 differs"), errText());
        }
    }

    @Test
    void tcpOnATerminalSendsTheTypedBytesUnchanged() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            byte[] typed = {'c', 'a', 'f', (byte) 0xc3, (byte) 0xa9, ' ', (byte) 0xff, '\r', '\n'};
            assertEquals(0, client(typed, true, "--port", String.valueOf(server.port())), errText());
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().bytesIn() == typed.length);
            assertTrue(startsWith(out.toByteArray(), Arrays.copyOf(typed, typed.length - 1)),
                    "the echo is printed as the bytes it is: " + out.toString(StandardCharsets.ISO_8859_1));
        }
    }

    // Every wait has a deadline, and success means the whole echo, then the server's close with nothing more.

    private int clientWithin(Duration limit, byte[] stdin, String... args) throws Exception {
        return CompletableFuture.supplyAsync(() -> client(stdin, false, args)).get(limit.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    void pipedModeGivesUpOnAServerThatStallsAtTheTimeout() throws Exception {
        try (BrokenEchoServer stalling = BrokenEchoServer.stallingAfter(2)) {
            long started = System.nanoTime();
            int status = clientWithin(Duration.ofSeconds(20), "hello".getBytes(StandardCharsets.US_ASCII),
                    "--timeout", "500ms", "--port", String.valueOf(stalling.port()));
            assertEquals(1, status);
            assertTrue(errText().contains("no echo within 500ms: 2 of 5 bytes came back"), errText());
            assertTrue(System.nanoTime() - started < 10_000_000_000L);
        }
    }

    @Test
    void pipedModeGivesUpOnAServerThatNeverClosesAtTheTimeout() throws Exception {
        try (BrokenEchoServer neverCloses = BrokenEchoServer.stallingAfter(5)) {
            int status = clientWithin(Duration.ofSeconds(20), "hello".getBytes(StandardCharsets.US_ASCII),
                    "--timeout", "500ms", "--port", String.valueOf(neverCloses.port()));
            assertEquals(1, status);
            assertTrue(errText().contains("all 5 bytes came back, but the server did not close within 500ms"), errText());
            assertEquals("hello", out.toString(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void pipedModeReportsBytesTheServerSendsBeforeItCloses() throws Exception {
        try (BrokenEchoServer appending = BrokenEchoServer.appendingBeforeClose("bye".getBytes(StandardCharsets.US_ASCII))) {
            int status = clientWithin(Duration.ofSeconds(20), "hello".getBytes(StandardCharsets.US_ASCII),
                    "--port", String.valueOf(appending.port()));
            assertEquals(1, status);
            assertTrue(errText().contains("the server sent bytes that were never sent to it, from byte 5 on"), errText());
        }
    }

    @Test
    void onATerminalAServerThatNeverClosesAfterTheLastLineIsATimeout() throws Exception {
        try (BrokenEchoServer neverCloses = BrokenEchoServer.stallingAfter(6)) {
            int status = CompletableFuture.supplyAsync(() -> client("hello\n".getBytes(StandardCharsets.US_ASCII), true,
                    "--timeout", "500ms", "--port", String.valueOf(neverCloses.port()))).get(20, TimeUnit.SECONDS);
            assertEquals(1, status);
            assertTrue(errText().contains("the server did not close within 500ms"), errText());
        }
    }

    @Test
    void aConnectionResetLeavesNoSenderBehindWaitingForInput() throws Exception {
        try (ServerSocket resetting = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             PipedOutputStream typing = new PipedOutputStream();
             PipedInputStream input = new PipedInputStream(typing)) {
            Thread server = Thread.ofVirtual().start(() -> {
                try (Socket connection = resetting.accept()) {
                    connection.getInputStream().read(); // the first byte is in: now reset
                    connection.setSoLinger(true, 0);
                } catch (IOException e) {
                    // the test fails on the client's side
                }
            });
            typing.write('x'); // and then the input neither goes on nor ends
            int status = CompletableFuture.supplyAsync(() -> {
                try {
                    return new StreamingClient(new InetSocketAddress(InetAddress.getLoopbackAddress(), resetting.getLocalPort()),
                            Duration.ofSeconds(5), new PrintStream(err, true)).run(input, out);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }).get(20, TimeUnit.SECONDS);
            assertEquals(1, status);
            assertTrue(errText().contains("broken"), errText());
            assertTrue(server.join(Duration.ofSeconds(10)));
            await().atMost(Duration.ofSeconds(5)).until(() -> ThreadDumps.countThreadsNamed("loom-echo-client-send") == 0);
        }
    }

    @Test
    void helpShowsTheTimeoutAsItIsTyped() {
        Client client = new Client();
        StringWriter help = new StringWriter();
        CommandLine cli = new CommandLine(client);
        cli.setOut(new PrintWriter(help, true));
        assertEquals(0, cli.execute("--help"));
        assertTrue(help.toString().contains("Default: 5s"), help.toString());
        assertFalse(help.toString().contains("PT"), help.toString());
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** A UDP echo that records each datagram (as ISO-8859-1 text) and can invert one byte of each reply. */
    private static final class DatagramEcho implements AutoCloseable {
        private final DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        private final List<String> received = new CopyOnWriteArrayList<>();
        private final Thread thread;

        /** {@code flipAt}: the byte of every reply to invert, or -1 for none. */
        DatagramEcho(int flipAt) throws IOException {
            thread = Thread.ofVirtual().name("test-datagram-echo").start(() -> {
                byte[] buffer = new byte[65_536];
                while (!socket.isClosed()) {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    try {
                        socket.receive(packet);
                        received.add(new String(buffer, 0, packet.getLength(), StandardCharsets.ISO_8859_1));
                        if (flipAt >= 0 && flipAt < packet.getLength()) {
                            buffer[flipAt] ^= (byte) 0xFF;
                        }
                        socket.send(packet);
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            });
        }

        int port() {
            return socket.getLocalPort();
        }

        List<String> received() {
            return List.copyOf(received);
        }

        @Override
        public void close() {
            socket.close(); // ends the receive, and so the thread
            try {
                thread.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
