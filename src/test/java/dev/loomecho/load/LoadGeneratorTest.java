package dev.loomecho.load;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.loomecho.BrokenEchoServer;
import dev.loomecho.EchoServer;
import dev.loomecho.ThreadDumps;
import dev.loomecho.cli.Main;
import dev.loomecho.fault.Faults;
import dev.loomecho.load.LoadOptions.Driver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
        try (BrokenEchoServer corrupt = BrokenEchoServer.flippingByteAt(640)) {
            LoadResult result = LoadGenerator.run(options(driver, corrupt.port(), 1, 100, 64, 1));
            assertFalse(result.ok());
            assertEquals(Map.of(Failure.WRONG_BYTE, 1L), result.failureCauses(), result.toText());
            assertEquals(640 / 64, result.messages(), "messages before the flipped byte pass");
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
        try (BrokenEchoServer corrupt = BrokenEchoServer.flippingByteAt(640)) {
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


    // A verifier passes a connection only after the exact echo and then the server's close with nothing
    // more; every wait has a deadline. Each case runs against a small misbehaving server.

    private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.US_ASCII);

    private static LoadOptions options(Driver driver, int port, long messages, int size, int pipeline, Duration timeout) {
        return new LoadOptions("127.0.0.1", port, 1, messages, null, size, pipeline, 0, Duration.ZERO, false, driver,
                timeout);
    }

    /** Runs the load on a thread of its own: a run still going after {@code limit} fails the test instead of hanging it. */
    private static LoadResult runWithin(Duration limit, LoadOptions options) throws InterruptedException {
        CompletableFuture<LoadResult> result = new CompletableFuture<>();
        Thread runner = Thread.ofPlatform().daemon().name("test-load-runner").start(() -> {
            try {
                result.complete(LoadGenerator.run(options));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        if (!runner.join(limit)) {
            runner.interrupt(); // closing the broken server then ends whatever it still waits for
            throw new AssertionError("the load run was still going after " + limit);
        }
        return result.join();
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void bytesAppendedToTheOnlyEchoFailTheRun(Driver driver) throws Exception {
        try (BrokenEchoServer appending = BrokenEchoServer.appendingToEveryEcho(CRLF)) {
            LoadResult result = runWithin(Duration.ofSeconds(20), options(driver, appending.port(), 1, 64, 1, Duration.ofSeconds(5)));
            assertFalse(result.ok(), result.toText());
            assertEquals(Map.of(Failure.EXTRA_BYTES, 1L), result.failureCauses(), result.toText());
            assertTrue(result.toText().contains("never sent to it"), result.toText());
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void bytesSentJustBeforeTheServerClosesFailTheRun(Driver driver) throws Exception {
        try (BrokenEchoServer appending = BrokenEchoServer.appendingBeforeClose("bye".getBytes(StandardCharsets.US_ASCII))) {
            LoadResult result = runWithin(Duration.ofSeconds(20), options(driver, appending.port(), 5, 64, 1, Duration.ofSeconds(5)));
            assertEquals(Map.of(Failure.EXTRA_BYTES, 1L), result.failureCauses(), result.toText());
            assertEquals(5, result.messages(), "every echo itself was right");
        }
    }

    @Test
    void everyChurningConnectionFailsOnBytesAppendedToItsEcho() throws Exception {
        try (BrokenEchoServer appending = BrokenEchoServer.appendingToEveryEcho(CRLF)) {
            LoadOptions churn = new LoadOptions("127.0.0.1", appending.port(), 1, 3, null, 64, 1, 0, Duration.ZERO, true);
            LoadResult result = runWithin(Duration.ofSeconds(20), churn);
            assertEquals(Map.of(Failure.EXTRA_BYTES, 3L), result.failureCauses(), result.toText());
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void aWrongByteInABatchLargerThanEverySocketBufferEndsTheRunPromptly(Driver driver) throws Exception {
        // 256 x 64 KiB = 16 MiB per batch, more than the client's and the server's socket buffers hold: once
        // the client stops reading at the wrong byte, the server stops reading too, and a writer still
        // pushing the batch is stuck until its socket is closed.
        try (BrokenEchoServer corrupt = BrokenEchoServer.flippingByteAt(100)) {
            LoadResult result = runWithin(Duration.ofSeconds(20), options(driver, corrupt.port(), 256, 65536, 256, Duration.ofSeconds(5)));
            assertEquals(Map.of(Failure.WRONG_BYTE, 1L), result.failureCauses(), result.toText());
        }
        assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-load-"), "a writer thread was left behind");
    }

    @ParameterizedTest
    @CsvSource({"THREADS, 640, TIMEOUT", "SELECTOR, 640, TIMEOUT", "THREADS, 6400, NOT_CLOSED", "SELECTOR, 6400, NOT_CLOSED"})
    void aServerThatStallsFailsTheRunAtTheTimeout(Driver driver, long stallAfter, Failure cause) throws Exception {
        // 100 x 64 B = 6,400 bytes: stalled midway, an echo never comes; stalled at the end, the close never does.
        try (BrokenEchoServer stalling = BrokenEchoServer.stallingAfter(stallAfter)) {
            long started = System.nanoTime();
            LoadResult result = runWithin(Duration.ofSeconds(20), options(driver, stalling.port(), 100, 64, 1, Duration.ofMillis(500)));
            assertEquals(Map.of(cause, 1L), result.failureCauses(), result.toText());
            assertEquals(stallAfter / 64, result.messages());
            assertTrue(System.nanoTime() - started < 10_000_000_000L, "the timeout took far longer than 500 ms");
        }
    }

    @Test
    void aStalledServerEndsADurationRunOfTheSelectorDriverFromTheCommandLine() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).faults(Faults.NONE.withStallAfter(640)).start()) {
            StringWriter out = new StringWriter();
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cli(out, "load", "--driver", "selector",
                    "--port", String.valueOf(server.port()), "-c", "2", "-d", "2s", "--timeout", "1s"));
            assertEquals(1, exit.get(20, TimeUnit.SECONDS), out.toString());
            assertTrue(out.toString().contains("2 × the server sent nothing for the whole --timeout"), out.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void connectionsClosedByTheServersIdleTimeoutDuringTheHoldSaySo(Driver driver) throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).idleTimeout(Duration.ofMillis(100)).start()) {
            LoadResult result = LoadGenerator.run(new LoadOptions("127.0.0.1", server.port(), 2, 1, null, 64, 1, 0,
                    Duration.ofSeconds(1), false, driver));
            assertEquals(Map.of(Failure.CLOSED_DURING_HOLD, 2L), result.failureCauses(), result.toText());
            assertTrue(result.toText().contains("2 × the server closed the connection before its first echo, after the --hold: "
                    + "is its idle timeout shorter?"), result.toText());
            assertTrue(result.toJson().contains("\"failureCauses\":{\"closed-during-hold\":2}"), result.toJson());
        }
    }

    @ParameterizedTest
    @EnumSource(Driver.class)
    void aHeldRunMeasuresItsRatesFromTheEndOfTheHold(Driver driver) throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            long started = System.nanoTime();
            LoadResult result = LoadGenerator.run(new LoadOptions("127.0.0.1", server.port(), 2, 20, null, 64, 1, 0,
                    Duration.ofMillis(500), false, driver));
            double wall = (System.nanoTime() - started) / 1e9;
            assertTrue(result.ok(), result.toText());
            assertTrue(result.seconds() > 0 && result.seconds() < wall - 0.5 + 0.01,
                    "measured " + result.seconds() + " s of a " + wall + " s run held for 0.5 s");
            assertTrue(result.cpuSeconds() <= (result.seconds() + 0.2) * Runtime.getRuntime().availableProcessors(),
                    "more CPU than the measured phase had: " + result.toText());
        }
    }

    @Test
    void aPacedRunEndsAtItsDurationNotAtTheNextScheduledMessage() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            // 0.2 messages/s over 2 connections: each is due to send every 10 s, its first at once.
            LoadOptions paced = new LoadOptions("127.0.0.1", server.port(), 2, 0, Duration.ofSeconds(1), 64, 1, 0.2,
                    Duration.ZERO, false);
            long started = System.nanoTime();
            LoadResult result = runWithin(Duration.ofSeconds(30), paced);
            double wall = (System.nanoTime() - started) / 1e9;
            assertTrue(result.ok(), result.toText());
            assertTrue(wall < 5, "a 1 s run took " + wall + " s: it slept until a message due after its end");
            assertEquals(2, result.messages(), "only the messages due within the duration are sent");
            assertTrue(result.seconds() < 3, "measured " + result.seconds() + " s of a 1 s run");
        }
    }

    @Test
    void aConnectionWhoseClientRunsOutOfMemoryFailsTheRun() throws Exception {
        // In a JVM of 32 MiB, a connection's payload (two 20 MB batches) cannot be allocated: that
        // connection has no verdict, and the run must not pass without it.
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            Process load = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-Xmx32m",
                    "-cp", System.getProperty("java.class.path"), "dev.loomecho.cli.Main", "load",
                    "--port", String.valueOf(server.port()), "-c", "1", "-m", "1", "-s", "20000000", "--json")
                    .redirectErrorStream(true).start();
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            });
            if (!load.waitFor(30, TimeUnit.SECONDS)) {
                load.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String text = output.get(10, TimeUnit.SECONDS);
            assertEquals(1, load.exitValue(), text);
            assertTrue(text.contains("\"failureCauses\":{\"client-error\":1}"), text);
        }
    }

    @Test
    void aBatchTooLargeToKeepTwiceIsABadUsage() {
        StringWriter out = new StringWriter();
        // 1 GiB - 1 byte: a connection keeps two batches, more than a Java array holds
        assertEquals(2, cli(out, "load", "-s", "1073741823", "-m", "1"));
        assertTrue(out.toString().contains("size x pipeline must stay under 512 MiB"), out.toString());
    }

    @Test
    void rateWithChurnIsABadUsageNotSilentlyUnpaced() {
        StringWriter out = new StringWriter();
        assertEquals(2, cli(out, "load", "--churn", "--rate", "10", "--port", "1"));
        assertTrue(out.toString().contains("--churn is not paced"), out.toString());
    }

    @Test
    void holdWithChurnIsABadUsage() {
        StringWriter out = new StringWriter();
        assertEquals(2, cli(out, "load", "--churn", "--hold", "1s"));
        assertTrue(out.toString().contains("--hold keeps connections idle, --churn opens one per message"), out.toString());
    }

    @Test
    void messagesWithDurationIsABadUsage() {
        StringWriter out = new StringWriter();
        assertEquals(2, cli(out, "load", "-m", "5", "-d", "1s"));
        assertTrue(out.toString().contains("--messages and --duration exclude each other"), out.toString());
    }

    @Test
    void onlyAChurningRunReportsConnectionsPerSecond() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            LoadResult steady = LoadGenerator.run(options(Driver.THREADS, server.port(), 2, 5, 64, 1));
            assertFalse(steady.toText().contains("connections/s"), steady.toText());
            assertFalse(steady.toJson().contains("connectionsPerSec"), steady.toJson());
            LoadResult churn = LoadGenerator.run(new LoadOptions("127.0.0.1", server.port(), 2, 5, null, 64, 1, 0,
                    Duration.ZERO, true));
            assertTrue(churn.ok(), churn.toText());
            assertTrue(churn.toText().contains("connections/s"), churn.toText());
            assertTrue(churn.toJson().contains("\"connectionsPerSec\":"), churn.toJson());
        }
    }

    @Test
    void helpShowsDefaultsAndChoicesAsTheyAreTyped() {
        StringWriter out = new StringWriter();
        assertEquals(0, cli(out, "load", "--help"));
        String help = out.toString();
        assertTrue(help.contains("Valid: threads, selector"), help);
        assertTrue(help.contains("Default: threads"), help);
        assertTrue(help.contains("Default: 0s"), help);
        assertTrue(help.contains("Default: 10s"), help);
        assertFalse(help.contains("PT"), "an ISO-8601 duration in the help:\n" + help);
        assertFalse(help.contains("Default: null"), help);
        assertEquals(0, cli(out, "load", "--driver", "SELECTOR", "--help"), "upper case is still accepted");
    }

    private static int cli(StringWriter out, String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));
        return cli.execute(args);
    }
}
