package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "From any language" examples, taken from README.md as they stand and run against
 * {@code target/loom-echo.jar} (so after package): if they break, so does the README.
 */
@Timeout(180)
class AnyLanguageExamplesIT {

    @TempDir
    Path work;

    @Test
    void thePythonExampleSetsLatencyOverHttpMeasuresItAndClearsIt() throws Exception {
        requireTool("python3", "--version");
        Path script = work.resolve("test_latency.py");
        Files.writeString(script, example("python"));
        String output = run(List.of("python3", script.toString()));
        assertTrue(output.contains("latency set, measured"), output);
    }

    @Test
    void theShellExampleDoesTheSameWithCurl() throws Exception {
        requireTool("curl", "--version");
        Path script = work.resolve("test_latency.sh");
        Files.writeString(script, example("shell"));
        String output = run(List.of("bash", script.toString()));
        assertTrue(output.contains("\"latency\":\"500:50\""), output);
        assertTrue(output.contains("\"accepted\":3"), "three echoes were measured:\n" + output);
    }

    @Test
    void theTlsPythonExampleFetchesTheCaEchoesAndDetectsTruncationAndExpiry() throws Exception {
        requireTool("python3", "--version");
        Path script = work.resolve("test_tls.py");
        Files.writeString(script, example("tls-python"));
        String output = run(List.of("python3", script.toString()));
        assertTrue(output.contains("TLS echo verified, truncation and expiry detected"), output);
    }

    @Test
    void theTlsShellExampleVerifiesTheServerWithOpensslAndSeesTheExpiry() throws Exception {
        requireTool("openssl", "version");
        requireTool("curl", "--version");
        Path script = work.resolve("test_tls.sh");
        Files.writeString(script, example("tls-shell"));
        String output = run(List.of("bash", script.toString()));
        assertTrue(output.contains("echo verified, NUL included"), output);
        assertTrue(output.contains("certificate has expired"), output);
    }

    /** The fenced block that follows {@code <!-- example: LANGUAGE -->} in README.md. */
    static String example(String language) throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int marker = readme.indexOf("<!-- example: " + language + " -->");
        assertTrue(marker >= 0, "README.md has no " + language + " example");
        int start = readme.indexOf('\n', readme.indexOf("```", marker)) + 1;
        int end = readme.indexOf("\n```", start);
        return readme.substring(start, end + 1);
    }

    private static void requireTool(String... command) throws InterruptedException {
        try {
            Process probe = new ProcessBuilder(command).redirectErrorStream(true).start();
            probe.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            if (probe.waitFor() == 0) {
                return;
            }
        } catch (IOException missing) {
            // reported below
        }
        fail(command[0] + " is needed to run the README's example (.ci/run installs it; on Debian: apt-get install -y "
                + command[0] + ")");
    }

    /**
     * Runs in the project directory, where a user runs them, as on a Debian 12 machine: its default Java,
     * 17, first on the PATH (when installed), and JAVA_HOME the JDK 21+ the user points run.sh at (this
     * JVM's, which built the jar: run.sh finds it fresh and does not rebuild).
     */
    private static String run(List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Path debianDefaultJava = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin");
        String path = System.getenv("PATH");
        if (Files.isDirectory(debianDefaultJava)) {
            path = debianDefaultJava + java.io.File.pathSeparator + path;
        }
        builder.environment().put("PATH", path);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("LOOM_ECHO_CONTROL_TOKEN");
        if (!Files.isRegularFile(Path.of("target/loom-echo.jar"))) {
            fail("target/loom-echo.jar is missing: run this test after `mvn package`");
        }
        Process process = builder.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("the example did not finish in 120 s:\n" + output.getNow(""));
        }
        String text = output.get(30, TimeUnit.SECONDS);
        assertEquals(0, process.exitValue(), "the example failed:\n" + text);
        return text;
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(output lost: " + e + ")";
        }
    }
}
