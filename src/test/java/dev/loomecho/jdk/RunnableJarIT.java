package dev.loomecho.jdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.ChildServer;
import dev.loomecho.TestClient;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code java -jar loom-echo.jar}, exactly as a new user types it: no flags, no environment. Runs after package. */
@Timeout(120)
class RunnableJarIT {

    private static final String JAR = Path.of("target/loom-echo.jar").toAbsolutePath().toString();
    /** The environment a new user has: nothing set that changes how the JVM starts. */
    private static final Map<String, String> PLAIN = java.util.Collections.singletonMap("JDK_JAVA_OPTIONS", null);

    @Test
    void helpAndVersionWorkWithNoFlag() {
        JavaRuntimes.Outcome help = JavaRuntimes.run(List.of(JavaRuntimes.current().toString(), "-jar", JAR, "--help"), PLAIN);
        assertEquals(0, help.exitCode(), help.stderr());
        assertTrue(help.stdout().startsWith("Usage: loom-echo"), help.stdout());
        assertEquals("", help.stderr());

        JavaRuntimes.Outcome version = JavaRuntimes.run(List.of(JavaRuntimes.current().toString(), "-jar", JAR, "--version"), PLAIN);
        assertEquals(0, version.exitCode(), version.stderr());
        assertTrue(version.stdout().matches("(?s)loom-echo \\d+\\.\\d+\\.\\d+.*\\nJava " + Runtime.version().feature() + ".*"),
                version.stdout());
        assertEquals("", version.stderr());
    }

    @Test
    void servesWithNoFlagUnderThePlainSupervisor() throws Exception {
        try (ChildServer server = ChildServer.startJar(0)) {
            try (TestClient client = new TestClient(server.address())) {
                assertArrayEquals(new byte[] {0, 1, 2}, client.echo(new byte[] {0, 1, 2}));
            }
            assertTrue(server.output().contains("under a thread-per-task executor"), server.output());
            assertFalse(server.output().contains("Exception"), server.output());
        }
    }

    @Test
    void onJava25WithPreviewOnTheConnectionsRunInAStructuredTaskScope() throws Exception {
        assumeTrue(Runtime.version().feature() == 25, "the jar's StructuredTaskScope supervisor is built for Java 25");
        try (ChildServer server = ChildServer.startJar(0, List.of("--enable-preview"))) {
            try (TestClient client = new TestClient(server.address())) {
                assertArrayEquals(new byte[] {7}, client.echo(new byte[] {7}));
            }
            assertTrue(server.output().contains("under a StructuredTaskScope"), server.output());
        }
    }

    @Test
    void onAJavaOlderThan21ItSaysInOneLineWhatItNeedsAndExits1() throws Exception {
        Path oldJava = JavaRuntimes.olderThan(21).orElse(null);
        assumeTrue(oldJava != null, "no Java older than 21 installed under /usr/lib/jvm");
        JavaRuntimes.Outcome outcome = JavaRuntimes.run(List.of(oldJava.toString(), "-jar", JAR, "serve"), PLAIN);
        assertEquals(1, outcome.exitCode());
        assertEquals("", outcome.stdout());
        String line = outcome.stderr().strip();
        assertEquals(1, line.lines().count(), "one line, no stack trace:\n" + outcome.stderr());
        assertTrue(line.startsWith("loom-echo needs Java 21 or newer, but this is Java "), line);
        assertTrue(line.contains(oldJava.toRealPath().getParent().getParent().toString()),
                "names where the old Java lives: " + line);
        assertTrue(line.contains("./run.sh") && line.contains("JAVA_HOME") && line.contains("Java 21+"),
                "says what to do: " + line);
    }
}
