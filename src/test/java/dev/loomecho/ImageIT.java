package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code ./run.sh image} builds a runtime that serves with no JDK around it. Runs after package. */
@Timeout(300)
class ImageIT {

    @Test
    void theJlinkImageRunsTheServerOnItsOwnRuntime() throws Exception {
        Process build = new ProcessBuilder("bash", "run.sh", "image").inheritIO().start();
        assertEquals(0, build.waitFor(), "./run.sh image failed");
        Path image = Path.of("target/image");
        assertTrue(Files.isExecutable(image.resolve("bin/loom-echo")));
        assertFalse(Files.exists(image.resolve("bin/javac")), "a runtime, not a JDK");
        String release = Files.readString(image.resolve("release"));
        assertTrue(release.contains("jdk.httpserver") && release.contains("jdk.jfr"), release);
        assertFalse(release.contains("java.sql"), release);

        // Installed as a symlink (ln -s .../bin/loom-echo /usr/local/bin/), it still finds its runtime.
        Path links = Files.createTempDirectory("loom-echo-links");
        try {
            Path link = Files.createSymbolicLink(links.resolve("loom-echo"), image.resolve("bin/loom-echo").toAbsolutePath());
            Path relative = Files.createSymbolicLink(links.resolve("relative"), links.relativize(link.getParent()).resolve("loom-echo"));
            for (Path launcher : new Path[] {link, relative}) {
                ProcessBuilder version = new ProcessBuilder(launcher.toString(), "--version").redirectErrorStream(true);
                version.environment().remove("JAVA_HOME");
                version.environment().put("PATH", "/usr/bin:/bin");
                Process started = version.start();
                String printed = new String(started.getInputStream().readAllBytes());
                assertEquals(0, started.waitFor(), launcher + ": " + printed);
                assertTrue(printed.startsWith("loom-echo "), printed);
            }
        } finally {
            try (var files = Files.list(links)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(links);
        }

        // Start it with an environment that has no Java on the PATH and no JAVA_HOME.
        ProcessBuilder serve = new ProcessBuilder(image.resolve("bin/loom-echo").toString(), "serve", "--port", "0",
                "--control-port", "0").redirectErrorStream(true);
        serve.environment().remove("JAVA_HOME");
        serve.environment().put("PATH", "/usr/bin:/bin");
        Process server = serve.start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream()))) {
            String line = out.readLine();
            while (line != null && !line.contains("listening on")) {
                line = out.readLine(); // log lines come first, e.g. which supervisor runs
            }
            assertTrue(line != null, "the server never said where it listens");
            Matcher listening = Pattern.compile("listening on ([\\d.]+):(\\d+)").matcher(line);
            assertTrue(listening.find(), line);
            if (Runtime.version().feature() == 25) { // the launcher passes --enable-preview to the release it was built for
                assertTrue(line.contains("under a StructuredTaskScope"), line);
            }
            try (TestClient client = new TestClient(new InetSocketAddress("127.0.0.1", Integer.parseInt(listening.group(2))))) {
                byte[] payload = TestClient.randomBytes(100_000, 1);
                assertArrayEquals(payload, client.echo(payload));
            }
            // The control API's JSON (Gson) works without java.sql, which run.sh leaves out of the image.
            Matcher control = Pattern.compile("control API on (http://\\S+)").matcher(out.readLine());
            assertTrue(control.find());
            try (HttpClient http = HttpClient.newHttpClient()) {
                HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(control.group(1) + "/faults"))
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"latency\": 5}")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, put.statusCode(), put.body());
                assertTrue(put.body().contains("\"latency\":\"5\""), put.body());
            }
            server.toHandle().destroy();
            assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, server.exitValue());
        } finally {
            server.destroyForcibly();
        }
    }
}
