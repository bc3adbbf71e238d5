package dev.loomecho.control;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.ChildServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
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
    void aTokenGivenAsAFlagIsNeverPrintedEither() throws Exception {
        try (ChildServer server = ChildServer.start(0, "--control-port", "0", "--control-token", "flag-t0ken-77");
             ControlClient wrong = new ControlClient(server.controlAddress(), "guess")) {
            assertEquals(401, wrong.get("/faults").statusCode());
            server.terminate();
            assertEquals(0, server.awaitExit());
            assertFalse(server.output().contains("flag-t0ken-77"), server.output());
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
