package dev.loomecho.load;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.loomecho.EchoServer;
import dev.loomecho.ThreadDumps;
import dev.loomecho.cli.Main;
import dev.loomecho.load.LoadOptions.Driver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

@Timeout(60)
class LoadGeneratorTest {

    private static LoadOptions options(Driver driver, int port, int connections, long messages, int size, int pipeline) {
        return new LoadOptions("127.0.0.1", port, connections, messages, null, size, pipeline, 0, Duration.ZERO, false,
                driver);
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void verifiesEveryEchoAgainstOurServer(Driver driver) throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            LoadResult result = LoadGenerator.run(options(driver, server.port(), 20, 50, 1000, 4));
            assertTrue(result.ok(), result.toText());
            assertEquals(20 * 52, result.messages(), "50 messages rounded up to whole pipelines of 4");
            assertEquals(result.bytes(), server.stats().bytesOut());
            assertTrue(result.p50() > 0 && result.p50() <= result.p99() && result.p99() <= result.max());
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void aPipelineLargerThanTheSocketBuffersDoesNotDeadlock(Driver driver) throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).bufferSize(4096).start()) {
            // 64 x 64 KiB = 4 MiB per batch: written before reading, both sides would block forever
            LoadResult result = LoadGenerator.run(options(driver, server.port(), 2, 128, 65536, 64));
            assertTrue(result.ok(), result.toText());
            assertEquals(2 * 128, result.messages());
        }
    }

    @Test
    void anInterruptedRunEndsPromptlyAndLeavesNoThreadBehind() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            LoadOptions halfAMinute = new LoadOptions("127.0.0.1", server.port(), 4, 0, Duration.ofSeconds(30), 64, 1, 0,
                    Duration.ZERO, false);
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread runner = Thread.ofPlatform().name("test-load-runner").start(() -> {
                try {
                    LoadGenerator.run(halfAMinute);
                    outcome.set(new AssertionError("the run finished although interrupted"));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bytesOut() > 0); // under way
            runner.interrupt();

            assertTrue(runner.join(Duration.ofSeconds(10)), "an interrupted run went on");
            assertInstanceOf(InterruptedException.class, outcome.get());
            assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-load-"), "threads of the interrupted run left behind");
        }
    }

    @Test
    void refusesADurationOrHoldTooLongToCount() {
        Duration tooLong = Duration.ofSeconds(Long.MAX_VALUE);
        assertThrows(IllegalArgumentException.class,
                () -> new LoadOptions("127.0.0.1", 7, 1, 0, tooLong, 64, 1, 0, Duration.ZERO, false));
        assertThrows(IllegalArgumentException.class,
                () -> new LoadOptions("127.0.0.1", 7, 1, 1, null, 64, 1, 0, tooLong, false));
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void aServerThatFlipsOneByteFailsTheRun(Driver driver) throws Exception {
        try (CorruptingServer corrupt = new CorruptingServer()) {
            LoadResult result = LoadGenerator.run(options(driver, corrupt.port(), 1, 100, 64, 1));
            assertFalse(result.ok());
            assertEquals(1, result.failures());
            assertEquals(CorruptingServer.CORRUPT_AT / 64, result.messages(), "messages before the flipped byte pass");
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void countsRefusedConnections(Driver driver) throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort(); // nothing listens here once the probe is closed
        }
        LoadResult result = LoadGenerator.run(options(driver, closedPort, 5, 1, 8, 1));
        assertEquals(5, result.connectErrors());
        assertEquals(0, result.connections());
        assertFalse(result.ok());
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void connectionsTurnedAwayByTheServerAreFailures(Driver driver) throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).maxConnections(1).start();
             Socket occupant = new Socket(server.address().getAddress(), server.port())) {
            occupant.getOutputStream().write(1);
            assertEquals(1, occupant.getInputStream().read()); // the one slot is taken
            LoadResult result = LoadGenerator.run(options(driver, server.port(), 3, 1, 8, 1));
            assertEquals(3, result.failures(), "each rejected connection ends in a short echo");
        }
    }

    @Test
    void jsonOutputParsesAndExitCodeReportsSuccess() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            StringWriter out = new StringWriter();
            CommandLine cli = Main.commandLine();
            cli.setOut(new PrintWriter(out, true));
            int exit = cli.execute("load", "--port", String.valueOf(server.port()), "-c", "3", "-m", "10", "--json");
            assertEquals(0, exit);
            JsonObject json = JsonParser.parseString(out.toString()).getAsJsonObject();
            assertTrue(json.get("ok").getAsBoolean());
            assertEquals(30, json.get("messages").getAsLong());
            assertTrue(json.getAsJsonObject("latencyMicros").get("p99").getAsDouble() > 0);
        }
    }

    @Test
    void exitsOneWhenAnEchoIsWrong() throws Exception {
        try (CorruptingServer corrupt = new CorruptingServer()) {
            CommandLine cli = Main.commandLine();
            cli.setOut(new PrintWriter(new StringWriter(), true));
            assertEquals(1, cli.execute("load", "--port", String.valueOf(corrupt.port()), "-c", "1", "-m", "100"));
        }
    }

    @Test
    void theSelectorDriverRunsForADurationFromTheCommandLine() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            StringWriter out = new StringWriter();
            CommandLine cli = Main.commandLine();
            cli.setOut(new PrintWriter(out, true));
            int exit = cli.execute("load", "--driver", "selector", "--port", String.valueOf(server.port()),
                    "-c", "20", "-s", "100", "--pipeline", "3", "-d", "500ms", "--json");
            assertEquals(0, exit);
            JsonObject json = JsonParser.parseString(out.toString()).getAsJsonObject();
            assertTrue(json.get("ok").getAsBoolean());
            assertEquals(20, json.get("connections").getAsLong());
            assertTrue(json.get("messages").getAsLong() >= 20 * 3, json.toString());
            assertEquals(0, json.get("messages").getAsLong() % 3, "whole batches only: every batch is verified to its end");
            assertEquals(json.get("bytes").getAsLong(), server.stats().bytesOut());
        }
    }

    @Test
    void theSelectorDriverNeitherPacesNorChurns() {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertEquals(2, cli.execute("load", "--driver", "selector", "--churn"));
        assertTrue(err.toString().contains("--driver threads"), err.toString());
    }

    @Test
    void rateWithPipelineIsABadUsage() {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertEquals(2, cli.execute("load", "--rate", "100", "--pipeline", "4"));
        assertTrue(err.toString().contains("--pipeline 1"), err.toString());
    }

    /** An "echo" server that flips one bit of byte {@link #CORRUPT_AT}, then echoes faithfully. */
    private static final class CorruptingServer implements AutoCloseable {
        static final int CORRUPT_AT = 640;
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final Thread thread = Thread.ofVirtual().start(this::serve);

        CorruptingServer() throws IOException {
        }

        int port() {
            return listener.getLocalPort();
        }

        private void serve() {
            try (Socket socket = listener.accept()) {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                long position = 0;
                int b;
                while ((b = in.read()) >= 0) {
                    out.write(position++ == CORRUPT_AT ? b ^ 1 : b);
                }
            } catch (IOException e) {
                // the client hung up: done
            }
        }

        @Override
        public void close() throws Exception {
            listener.close();
            thread.join();
        }
    }
}
