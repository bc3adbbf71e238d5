package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** lab/lab.sh run by hand, not through ./run.sh lab: with a JAVA_HOME too old for its programs. */
@Timeout(90)
class LabScriptTest {

    /** Debian 12's default JDK, the one a bare {@code java} is on this project's machines. */
    private static final Path JAVA_17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");

    @Test
    void theLabRefusesAJavaHomeOlderThan21AtOnceSayingWhatItNeeds() throws Exception {
        assumeTrue(Files.isExecutable(JAVA_17.resolve("bin/java")), "needs Debian's OpenJDK 17 at " + JAVA_17);
        ProcessBuilder builder = new ProcessBuilder("bash", "lab/lab.sh", "--quick").redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", JAVA_17.toString());
        Process lab = builder.start();
        boolean ended = lab.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            lab.descendants().forEach(ProcessHandle::destroyForcibly); // whatever a lab that ran on started
            lab.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String output = new String(lab.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ended, "the lab ran on with Java 17:\n" + output);
        assertEquals(1, lab.exitValue(), output);
        assertTrue(output.contains("lab: JAVA_HOME=" + JAVA_17 + " is Java 17; the lab needs a JDK 21+ (./run.sh lab finds one)"),
                output);
    }
}
