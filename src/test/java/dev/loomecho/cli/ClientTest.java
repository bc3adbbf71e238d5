package dev.loomecho.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.TestClient;
import dev.loomecho.fault.Faults;
import dev.loomecho.udp.UdpConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
        try (ServerSocket corrupting = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> echoFlippingByte(corrupting, 5_000));
            int status = client(TestClient.randomBytes(20_000, 2), false, "--port", String.valueOf(corrupting.getLocalPort()));
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
    void udpSendsEachLineAsADatagramAndPrintsItsReply() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).udp(UdpConfig.DEFAULTS.withEnabled(true)).start()) {
            byte[] lines = "one\ntwo\n\nthree\n".getBytes(StandardCharsets.UTF_8);
            assertEquals(0, client(lines, false, "--udp", "--port", String.valueOf(server.udpAddress().orElseThrow().getPort())),
                    errText());
            assertEquals("one\ntwo\n\nthree\n", out.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n"));
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().udpEchoed() == 4); // counted after the send
        }
    }

    @Test
    void aUdpReplyThatNeverComesIsATimeoutAndExits1() throws IOException {
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int status = client("ping\n".getBytes(StandardCharsets.UTF_8), false,
                    "--udp", "--timeout", "300ms", "--port", String.valueOf(silent.getLocalPort()));
            assertEquals(1, status);
            assertTrue(errText().contains("no echo of \"ping\" within the timeout"), errText());
        }
    }

    /** A broken echo server for one connection: echoes everything, but byte {@code flipAt} inverted. */
    private static void echoFlippingByte(ServerSocket server, long flipAt) {
        try (Socket socket = server.accept()) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[4096];
            long position = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (flipAt >= position && flipAt < position + n) {
                    buffer[(int) (flipAt - position)] ^= (byte) 0xFF;
                }
                out.write(buffer, 0, n);
                position += n;
            }
        } catch (IOException e) {
            // the client hung up after spotting the wrong byte
        }
    }
}
