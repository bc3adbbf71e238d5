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
 * no {@code --enable-preview} — where a consumer on any JDK 21+ stands. Runs after package, on this JVM's
 * java or the one {@code loomecho.test.java} names ({@code ./run.sh test-jdks} runs it on each JDK).
 */
@Timeout(120)
class ConsumerIT {

    /** Test-classpath jars a consumer has too; everything else (picocli, HdrHistogram, gson...) stays out. */
    private static final Pattern CONSUMER_JARS =
            Pattern.compile(".*/(junit-|opentest4j|apiguardian|slf4j-api|slf4j-simple)[^/]*\\.jar");

    /** The consumer's java: this JVM's, or the one {@code loomecho.test.java} names (read per test run). */
    private final TargetJava consumerJava = TargetJava.fromSystemProperty();

    @Test
    void theLibraryAndItsJUnitExtensionWorkInAJvmWithoutPreviewFeatures() throws IOException {
        JavaRuntimes.Outcome run = runConsumer(List.of(), "THREAD_PER_TASK_EXECUTOR");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    }

    @Test
    void withPreviewOnTheReleaseItWasBuiltForTheSameJarSupervisesWithAStructuredTaskScope() throws IOException {
        String previewRelease = buildProperties().getProperty("preview.release", "");
        assumeTrue(previewRelease.equals(String.valueOf(consumerJava.feature())),
                "the jar's StructuredTaskScope supervisor is built for Java " + previewRelease + ", this is " + consumerJava.feature());
        JavaRuntimes.Outcome run = runConsumer(List.of("--enable-preview"), "STRUCTURED_TASK_SCOPE");
        assertEquals(0, run.exitCode(), run.stdout() + run.stderr());
    }

    private JavaRuntimes.Outcome runConsumer(List<String> jvmOptions, String expectedSupervision)
            throws IOException {
        List<String> classpath = new ArrayList<>();
        classpath.add(consumerJava.pathOf(libraryJar()));
        classpath.add(consumerJava.pathOf(Path.of("target/test-classes")));
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> CONSUMER_JARS.matcher(entry).matches())
                .map(entry -> consumerJava.pathOf(Path.of(entry)))
                .forEach(classpath::add);
        List<String> options = new ArrayList<>(jvmOptions);
        options.addAll(List.of("-DexpectedSupervision=" + expectedSupervision,
                "-cp", String.join(File.pathSeparator, classpath), ConsumerLauncher.class.getName()));
        return JavaRuntimes.run(consumerJava.command(options), Collections.singletonMap("JDK_JAVA_OPTIONS", null));
    }

    private static Properties buildProperties() throws IOException {
        Properties build = new Properties();
        try (var in = Files.newInputStream(Path.of("target/classes/loom-echo.properties"))) {
            build.load(in);
        }
        return build;
    }

    /** target/loom-echo-VERSION.jar: the artifact {@code mvn install} publishes, without the runnable jar's extras. */
    private static Path libraryJar() throws IOException {
        Path jar = Path.of("target", "loom-echo-" + buildProperties().getProperty("version") + ".jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run this test after package");
        }
        return jar;
    }
}
