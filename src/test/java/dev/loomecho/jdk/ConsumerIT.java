package dev.loomecho.jdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An embedder's test JVM: the library jar as Maven installs it (not target/classes), JUnit, slf4j, and
 * no {@code --enable-preview} — where a consumer on any JDK 21+ stands. Runs after package.
 */
@Timeout(120)
class ConsumerIT {

    /** Test-classpath jars a consumer has too; everything else (picocli, HdrHistogram, gson...) stays out. */
    private static final Pattern CONSUMER_JARS =
            Pattern.compile(".*/(junit-|opentest4j|apiguardian|slf4j-api|slf4j-simple)[^/]*\\.jar");

    @Test
    void theLibraryAndItsJUnitExtensionWorkInAJvmWithoutPreviewFeatures() throws IOException {
        JavaRuntimes.Outcome run = runConsumer(List.of(), "THREAD_PER_TASK_EXECUTOR");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    }

    @Test
    void withPreviewOnJava25TheSameJarSupervisesWithAStructuredTaskScope() throws IOException {
        assumeTrue(Runtime.version().feature() == 25, "the jar's StructuredTaskScope supervisor is built for Java 25");
        JavaRuntimes.Outcome run = runConsumer(List.of("--enable-preview"), "STRUCTURED_TASK_SCOPE");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    }

    private static JavaRuntimes.Outcome runConsumer(List<String> jvmOptions, String expectedSupervision)
            throws IOException {
        List<String> classpath = new ArrayList<>();
        classpath.add(libraryJar().toString());
        classpath.add(Path.of("target/test-classes").toAbsolutePath().toString());
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> CONSUMER_JARS.matcher(entry).matches())
                .forEach(classpath::add);
        List<String> command = new ArrayList<>(List.of(JavaRuntimes.current().toString()));
        command.addAll(jvmOptions);
        command.addAll(List.of("-DexpectedSupervision=" + expectedSupervision,
                "-cp", String.join(File.pathSeparator, classpath), ConsumerLauncher.class.getName()));
        return JavaRuntimes.run(command, Collections.singletonMap("JDK_JAVA_OPTIONS", null));
    }

    /** target/loom-echo-VERSION.jar: the artifact {@code mvn install} publishes, without the runnable jar's extras. */
    private static Path libraryJar() throws IOException {
        Properties build = new Properties();
        try (var in = Files.newInputStream(Path.of("target/classes/loom-echo.properties"))) {
            build.load(in);
        }
        Path jar = Path.of("target", "loom-echo-" + build.getProperty("version") + ".jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run this test after package");
        }
        return jar;
    }
}
