package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** run.sh as the README uses it: several at once on a fresh clone, and the README's watch example. */
@Timeout(180)
class RunScriptIT {

    @TempDir
    Path work;

    /** A clone as run.sh sees it before its first build: sources, a pom, run.sh itself, no jar. */
    private Path freshClone() throws IOException {
        Path clone = work.resolve("clone");
        Files.createDirectories(clone.resolve("src/main"));
        Files.copy(Path.of("run.sh"), clone.resolve("run.sh"));
        Files.writeString(clone.resolve("pom.xml"), "<project/>\n");
        Files.writeString(clone.resolve("src/main/Source.java"), "class Source {}\n");
        return clone;
    }

    /** An executable {@code mvn} in {@code work/bin} that runs {@code script} (sh) instead of a build. */
    private Path standInMaven(String script) throws IOException {
        Path maven = Files.createDirectories(work.resolve("bin")).resolve("mvn");
        Files.writeString(maven, "#!/bin/sh\n" + script);
        Files.setPosixFilePermissions(maven, PosixFilePermissions.fromString("rwxr-xr-x"));
        return maven;
    }

    /**
     * A fresh clone: no jar yet, and two run.sh started together (`./run.sh serve & ./run.sh load &`).
     * Two Maven builds in one target/ clash; the second run.sh must wait for the first one's build.
     * Maven is a stand-in here that counts its calls and, after a while, puts the real jar in place.
     */
    @Test
    void twoRunShStartedTogetherOnAFreshCloneBuildOnce() throws Exception {
        Path clone = freshClone();
        Path calls = work.resolve("maven-calls");
        Path maven = standInMaven("echo \"$*\" >> '" + calls + "'\n"
                + "sleep 2\n" // a build takes a while: long enough for the other run.sh to find the jar missing
                + "mkdir -p target && cp '" + jar() + "' target/loom-echo.jar\n");

        List<Process> runs = new ArrayList<>();
        List<CompletableFuture<String>> outputs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ProcessBuilder builder = new ProcessBuilder("bash", clone.resolve("run.sh").toString(), "--version")
                    .redirectErrorStream(true);
            builder.environment().put("PATH", maven.getParent() + ":" + System.getenv("PATH"));
            builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
            Process run = builder.start();
            runs.add(run);
            outputs.add(CompletableFuture.supplyAsync(() -> readAll(run.getInputStream())));
        }
        for (int i = 0; i < runs.size(); i++) {
            assertTrue(runs.get(i).waitFor(60, TimeUnit.SECONDS), "run.sh did not finish");
            String output = outputs.get(i).get(10, TimeUnit.SECONDS);
            assertEquals(0, runs.get(i).exitValue(), output);
            assertTrue(output.contains("loom-echo "), output);
        }
        assertEquals(1, Files.readAllLines(calls).size(), "Maven ran more than once: " + Files.readAllLines(calls));
    }

    /**
     * {@code ./run.sh serve &} on a fresh clone, then {@code kill $!} while it still builds: the build must
     * end with run.sh, not go on without anyone to run the jar (holding the build lock). Maven is a
     * stand-in that says its process id and sleeps, as a long build would.
     */
    @Test
    void aSigtermDuringTheBuildEndsTheBuildToo() throws Exception {
        Path clone = freshClone();
        Path pid = work.resolve("maven-pid");
        Path maven = standInMaven("echo $$ > '" + pid + ".partial' && mv '" + pid + ".partial' '" + pid + "'\n"
                + "exec sleep 120\n");
        ProcessBuilder builder = new ProcessBuilder("bash", clone.resolve("run.sh").toString(), "serve", "--port", "0")
                .redirectErrorStream(true);
        builder.environment().put("PATH", maven.getParent() + ":" + System.getenv("PATH"));
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process run = builder.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(run.getInputStream()));
        long build = 0;
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(pid));
            build = Long.parseLong(Files.readString(pid).trim());
            run.toHandle().destroy(); // SIGTERM, as `kill $!` sends it
            assertTrue(run.waitFor(20, TimeUnit.SECONDS), "run.sh did not end on SIGTERM");
            assertEquals(143, run.exitValue(), output.getNow("(its output is still open)"));
            long mavenPid = build;
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(mavenPid).map(p -> !p.isAlive()).orElse(true));
        } finally {
            ProcessHandle.of(build).ifPresent(ProcessHandle::destroyForcibly); // a build left running, were it so
            run.destroyForcibly();
        }
    }

    /**
     * The README's "Try /metrics while the load generator runs" lines, with a 7 s load instead of 30 s:
     * they use the default ports, so they run in a private network namespace, where those are free.
     */
    @Test
    void theReadmesWatchExampleWaitsForTheServerAndScrapesItUnderLoad() throws Exception {
        String unavailable = NetworkNamespace.unavailableBecause();
        assumeTrue(unavailable == null, unavailable);
        jar();
        String example = AnyLanguageExamplesIT.example("watch");
        assertTrue(example.contains("-d 30s") && example.contains("sleep 5;"), example);
        String script = "set -euo pipefail\n" + example.replace("-d 30s", "-d 7s") // still running at the scrape
                + "wait $!                 # the load generator: its exit status\n"
                + "echo \"after the load: $(curl -s http://127.0.0.1:9090/metrics | grep '^loomecho_connections_accepted')\"\n"
                + "kill %1; wait %1        # the server: SIGTERM, exit 0\n";
        Files.writeString(work.resolve("watch.sh"), script);
        ProcessBuilder builder = new ProcessBuilder("unshare", "-n", "--", "bash", "-c",
                "ip link set lo up && exec bash \"$0\"", work.resolve("watch.sh").toString()).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process run = builder.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(run.getInputStream()));
        assertTrue(run.waitFor(120, TimeUnit.SECONDS), "the example did not finish");
        String text = output.get(10, TimeUnit.SECONDS);
        assertEquals(0, run.exitValue(), text);
        assertTrue(text.contains("{\"ready\":true}"), text);
        assertTrue(Pattern.compile("(?m)^loomecho_connections_active\\{").matcher(text).find(), "the example's scrape:\n" + text);
        Matcher accepted = Pattern.compile("(?m)^after the load: loomecho_connections_accepted_total\\{[^}]*} (\\d+)$").matcher(text);
        assertTrue(accepted.find() && Long.parseLong(accepted.group(1)) > 0, "the load's connections are counted:\n" + text);
        assertTrue(text.contains("loom-echo stopped on SIGTERM"), text);
    }

    private static Path jar() {
        Path jar = Path.of("target/loom-echo.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run this test after `mvn package`");
        }
        return jar;
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(output lost: " + e + ")";
        }
    }
}
