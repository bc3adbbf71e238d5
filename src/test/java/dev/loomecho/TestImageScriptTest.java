package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What deploy/test-image.sh asks of podman, with a stand-in podman that records its calls
 * (LOOM_ECHO_PODMAN): the images and containers it names, and what it removes. The stand-in says the
 * base image exists (so nothing is debootstrapped) and fails {@code run}, which ends the script early,
 * through its cleanup.
 */
@Timeout(60)
class TestImageScriptTest {

    @TempDir
    Path dir;

    @Test
    void itBuildsUnderItsOwnNameAndRemovesOnlyWhatThisRunMade() throws Exception {
        List<String> calls = run(Files.readString(Path.of("deploy/test-image.sh")));
        String image = valueAfter(call(calls, "build "), "-t");
        assertFalse(image.matches("(localhost/)?loom-echo(:.*)?"), "the test image takes a user's loom-echo name: " + image);
        String container = valueAfter(call(calls, "run "), "--name");
        for (String call : calls) {
            if (call.startsWith("rm ") || call.startsWith("rmi ")) {
                String target = call.substring(call.lastIndexOf(' ') + 1);
                assertTrue(target.equals(image) || target.equals(container), "removes what this run did not make: " + call);
            }
        }
        assertTrue(calls.contains("rmi " + image), "this run's image is left behind: " + calls);
    }

    @Test
    void theBaseImagesTagFollowsItsPackageList() throws Exception {
        String script = Files.readString(Path.of("deploy/test-image.sh"));
        String shipped = call(run(script), "image exists ").substring("image exists ".length());
        assertEquals("localhost/loom-echo-base:trixie-openjdk-25-jre-headless", shipped);
        String withCurl = script.replace("base_packages=(openjdk-25-jre-headless)", "base_packages=(openjdk-25-jre-headless curl)");
        assertNotEquals(script, withCurl, "the script's package list moved");
        String changed = call(run(withCurl), "image exists ").substring("image exists ".length());
        assertEquals("localhost/loom-echo-base:trixie-openjdk-25-jre-headless-curl", changed,
                "another package list must make another base, not reuse the old one");
    }

    /** Runs {@code script} as deploy/test-image.sh of a copy of the project, and returns podman's calls. */
    private List<String> run(String script) throws Exception {
        Path project = Files.createTempDirectory(dir, "project");
        Path copy = Files.createDirectories(project.resolve("deploy")).resolve("test-image.sh");
        Files.writeString(copy, script);
        Path calls = project.resolve("podman-calls");
        Path podman = project.resolve("podman");
        Files.writeString(podman, "#!/bin/sh\n"
                + "echo \"$*\" >> '" + calls + "'\n"
                + "case \"$1\" in\n"
                + "  run) exit 1 ;;\n" // ends the script: the rest needs a real container
                + "  *) exit 0 ;;\n"   // `image exists`: the base is there; build, rm, rmi succeed
                + "esac\n");
        Files.setPosixFilePermissions(podman, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder builder = new ProcessBuilder("bash", copy.toString()).redirectErrorStream(true);
        builder.environment().put("LOOM_ECHO_PODMAN", podman.toString());
        builder.environment().put("JAVA", "/bin/false");
        builder.environment().put("JAR", "unused.jar");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), output);
        assertTrue(output.contains("podman run failed"), "the stand-in's failed run should end it:\n" + output);
        return Files.readAllLines(calls);
    }

    private static String call(List<String> calls, String prefix) {
        return calls.stream().filter(call -> call.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no podman " + prefix + "call: " + calls));
    }

    private static String valueAfter(String call, String option) {
        List<String> words = List.of(call.split(" "));
        return words.get(words.indexOf(option) + 1);
    }
}
