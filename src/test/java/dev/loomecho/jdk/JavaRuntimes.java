package dev.loomecho.jdk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The JVMs a test can run the jar on: this one, and any other installed under /usr/lib/jvm. */
public final class JavaRuntimes {

    private static final Pattern VERSION = Pattern.compile("JAVA_VERSION=\"(?:1\\.)?(\\d+)");

    private JavaRuntimes() {
    }

    /** The java binary running this test. */
    public static Path current() {
        return Path.of(ProcessHandle.current().info().command().orElseThrow());
    }

    /** An installed JDK or JRE whose feature version is below {@code release}, e.g. Debian 12's Java 17. */
    public static Optional<Path> olderThan(int release) {
        try (var homes = Files.list(Path.of("/usr/lib/jvm"))) {
            return homes.filter(home -> Files.isExecutable(home.resolve("bin/java")))
                    .filter(home -> featureVersion(home).filter(v -> v < release).isPresent())
                    .map(home -> home.resolve("bin/java"))
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Integer> featureVersion(Path home) {
        try {
            Matcher m = VERSION.matcher(Files.readString(home.resolve("release")));
            return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** What a finished process printed and how it ended. */
    public record Outcome(int exitCode, String stdout, String stderr) {
    }

    /** Runs {@code command} to completion (at most 60 s), with {@code environment} changes applied. */
    public static Outcome run(List<String> command, java.util.Map<String, String> environment) {
        try {
            Path out = Files.createTempFile("loom-echo-out", ".txt");
            Path err = Files.createTempFile("loom-echo-err", ".txt");
            try {
                ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command))
                        .redirectOutput(out.toFile()).redirectError(err.toFile());
                environment.forEach((key, value) -> {
                    if (value == null) {
                        builder.environment().remove(key);
                    } else {
                        builder.environment().put(key, value);
                    }
                });
                Process process = builder.start();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("did not finish within 60 s: " + command);
                }
                return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
