package dev.loomecho.control;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.ChildServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What only a separate process shows: the token from the environment, the output, and life without Gson. */
@Timeout(120)
class ControlProcessTest {

    @Test
    void theTokenComesFromTheEnvironmentAndIsNeverPrinted() throws Exception {
        String token = "env-t0ken-4d1c";
        try (ChildServer server = ChildServer.startWithEnvironment(Map.of("LOOM_ECHO_CONTROL_TOKEN", token),
                "--control-port", "0");
             ControlClient anonymous = new ControlClient(server.controlAddress());
             ControlClient authorized = new ControlClient(server.controlAddress(), token)) {
            assertEquals(401, anonymous.put("/faults", "{\"latency\": 100}").statusCode());
            assertEquals(200, authorized.put("/faults", "{\"latency\": 100}").statusCode());
            await().atMost(Duration.ofSeconds(10)).until(() -> server.output().contains("faults set by PUT"));
            assertTrue(server.output().contains("bearer token required"), server.output());
            assertFalse(server.output().contains(token), "the token was printed:\n" + server.output());
        }
    }

    @Test
    void aTokenGivenAsAFlagIsNeverPrintedEitherAndWrongOnesAreLogged() throws Exception {
        try (ChildServer server = ChildServer.start(0, "--control-port", "0", "--control-token", "flag-t0ken-77");
             ControlClient wrong = new ControlClient(server.controlAddress(), "guess-1234")) {
            assertEquals(401, wrong.get("/faults").statusCode());
            assertEquals(401, wrong.put("/faults", "{}").statusCode());
            await().atMost(Duration.ofSeconds(10)).until(() -> server.output().contains("missing or wrong bearer token"));
            server.terminate();
            assertEquals(0, server.awaitExit());
            String output = server.output();
            assertTrue(output.contains("refused GET /faults from /127.0.0.1:"), output);
            assertEquals(1, output.lines().filter(line -> line.contains("refused")).count(), "at most one line per 10 s:\n" + output);
            assertFalse(output.contains("flag-t0ken-77"), output);
            assertFalse(output.contains("guess-1234"), "the presented token was logged:\n" + output);
        }
    }

    /**
     * The JDK's HTTP server waits for a request's headers for ever unless told otherwise; the CLI tells it
     * 10 s ({@code sun.net.httpserver.maxReqTime}), so a client that trickles bytes cannot hold a connection.
     */
    @Test
    void aClientTricklingItsHeadersIsCutOffWithinTheRequestTimeLimit() throws Exception {
        try (ChildServer server = ChildServer.start(0, "--control-port", "0")) {
            InetSocketAddress control = server.controlAddress();
            try (Socket slow = new Socket(control.getAddress(), control.getPort())) {
                slow.setSoTimeout(40_000);
                OutputStream out = slow.getOutputStream();
                out.write("GET /faults HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                long started = System.nanoTime();
                Thread trickle = Thread.ofVirtual().start(() -> {
                    try {
                        for (int i = 0; i < 200 && !Thread.currentThread().isInterrupted(); i++) { // 40 s at most
                            out.write('x');
                            out.flush();
                            Thread.sleep(200);
                        }
                    } catch (IOException | InterruptedException closedOrDone) {
                        // the server cut us off, or the test is over
                    }
                });
                try {
                    assertEquals(-1, slow.getInputStream().read(), "the server answered a request that never ended");
                } catch (SocketException reset) {
                    // closed with our bytes unread: the same cut-off
                }
                long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
                assertTrue(seconds <= 25, "cut off only after " + seconds + " s");
                trickle.interrupt();
                trickle.join();
            }
        }
    }

    /**
     * Gson is optional: an embedder without it keeps the API and the JUnit extension as long as the control
     * port is off, and gets a clear error when it is on. {@link WithoutGson} runs in a JVM whose class path
     * lacks Gson.
     */
    @Test
    void withoutGsonEverythingButTheControlPortWorks() throws Exception {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> !entry.contains("gson")).collect(Collectors.joining(java.io.File.pathSeparator));
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-preview", "-Xmx128m", "-cp", classPath, WithoutGson.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            output = out.lines().collect(Collectors.joining("\n"));
        }
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), output);
        assertTrue(output.contains("gson absent"), output);
        assertTrue(output.contains("extension echoed"), output);
        assertTrue(output.contains("control port refused: the control port needs Gson (com.google.code.gson:gson"), output);
    }
}
