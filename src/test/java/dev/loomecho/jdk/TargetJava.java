package dev.loomecho.jdk;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The java a test starts loom-echo or a consumer's test JVM with: this JVM's by default, or the command in
 * {@code loomecho.test.java}, e.g. {@code chroot ROOT /usr/lib/jvm/java-27-openjdk-amd64/bin/java} for a JDK
 * that runs only in a chroot ({@code ./run.sh test-jdks}). A command that starts with {@code chroot ROOT}
 * sees ROOT as {@code /}, so the files it is given are copied under ROOT first ({@link #pathOf}).
 */
public final class TargetJava {

    /** The system property holding the java command; unset means this JVM. */
    public static final String PROPERTY = "loomecho.test.java";

    private static final Pattern SPECIFICATION = Pattern.compile("java\\.specification\\.version = (\\d+)");
    private static final Pattern RUNTIME = Pattern.compile("java\\.runtime\\.version = (\\S+)");
    private static final Map<String, Path> STAGED = new ConcurrentHashMap<>();

    private final List<String> command;
    private final Optional<Path> root;
    private volatile String settings; // what -XshowSettings:properties printed, read once

    private TargetJava(List<String> command) {
        this.command = List.copyOf(command);
        this.root = command.size() > 2 && command.get(0).equals("chroot")
                ? Optional.of(Path.of(command.get(1)).toAbsolutePath()) : Optional.empty();
    }

    /** The java {@code loomecho.test.java} names, else this JVM's. */
    public static TargetJava fromSystemProperty() {
        String given = System.getProperty(PROPERTY, "");
        return given.isBlank() ? of(List.of(JavaRuntimes.current().toString())) : parse(given);
    }

    /** A command given as one string, its words separated by spaces (paths with spaces are not supported). */
    public static TargetJava parse(String command) {
        return of(Arrays.asList(command.trim().split("\\s+")));
    }

    public static TargetJava of(List<String> command) {
        return new TargetJava(command);
    }

    /** Whether this is the JVM running the test (no {@code loomecho.test.java}). */
    public boolean isThisJvm() {
        return command.equals(List.of(JavaRuntimes.current().toString()));
    }

    /** The words that start this java, before its options. */
    public List<String> command() {
        return command;
    }

    /** The command followed by {@code arguments}. */
    public List<String> command(List<String> arguments) {
        List<String> full = new ArrayList<>(command);
        full.addAll(arguments);
        return full;
    }

    /**
     * Where this java sees the file or directory {@code hostPath}: the path itself, or, under a chroot,
     * the path of a copy made under ROOT/tmp/loom-echo-staged (once per JVM and path).
     */
    public String pathOf(Path hostPath) {
        if (root.isEmpty()) {
            return hostPath.toAbsolutePath().toString();
        }
        Path source = hostPath.toAbsolutePath().normalize();
        Path inRoot = Path.of("/tmp/loom-echo-staged").resolve(source.toString().substring(1));
        STAGED.computeIfAbsent(root.get() + "\0" + source, key -> {
            copy(source, root.get().resolve(inRoot.toString().substring(1)));
            return inRoot;
        });
        return inRoot.toString();
    }

    /** Its feature version, e.g. 27. */
    public int feature() {
        Matcher m = SPECIFICATION.matcher(settings());
        if (!m.find()) {
            throw new IllegalStateException(this + " did not report java.specification.version:\n" + settings());
        }
        return Integer.parseInt(m.group(1));
    }

    /** Its full version, e.g. 27.0.1.0.3+1-1-Debian. */
    public String runtimeVersion() {
        Matcher m = RUNTIME.matcher(settings());
        return m.find() ? m.group(1) : "unknown";
    }

    private String settings() {
        if (settings == null) {
            JavaRuntimes.Outcome run = JavaRuntimes.run(command(List.of("-XshowSettings:properties", "-version")),
                    Collections.singletonMap("JDK_JAVA_OPTIONS", null));
            if (run.exitCode() != 0) {
                throw new IllegalStateException(this + " does not start (exit " + run.exitCode() + "):\n" + run.stderr());
            }
            settings = run.stderr();
        }
        return settings;
    }

    private static void copy(Path source, Path target) {
        try (var paths = Files.walk(source)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path destination = target.resolve(source.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(destination);
                } else {
                    Files.createDirectories(destination.getParent());
                    Files.copy(path, destination, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + source + " to " + target, e);
        }
    }

    @Override
    public String toString() {
        return String.join(" ", command);
    }
}
