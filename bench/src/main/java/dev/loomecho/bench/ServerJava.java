package dev.loomecho.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The java the servers run on: the runner's own, or a command given with {@code --java}, such as
 * {@code chroot ROOT /usr/lib/jvm/java-27-openjdk-amd64/bin/java} for a JDK that runs only in a chroot
 * ({@code ./run.sh bench --jdk 27} passes that). A command starting with {@code chroot ROOT} sees ROOT as
 * {@code /}: the jars it runs are copied under ROOT/tmp first, and its own {@code jcmd} reads its heap.
 */
record ServerJava(List<String> command) {

    private static final Pattern RUNTIME = Pattern.compile("java\\.runtime\\.version = (\\S+)");

    static ServerJava parse(String command) {
        return new ServerJava(Arrays.asList(command.trim().split("\\s+")));
    }

    /** The command followed by {@code arguments}. */
    List<String> with(List<String> arguments) {
        List<String> full = new ArrayList<>(command);
        full.addAll(arguments);
        return full;
    }

    /** The {@code jcmd} beside this java, run the same way (in the same chroot), so it can attach. */
    List<String> jcmd() {
        List<String> jcmd = new ArrayList<>(command);
        jcmd.set(jcmd.size() - 1, Path.of(jcmd.getLast()).resolveSibling("jcmd").toString());
        return jcmd;
    }

    /** Where this java sees {@code jar}: the jar itself, or a copy under the chroot's /tmp/loom-echo-bench. */
    String pathOf(Path jar) {
        if (command.size() < 3 || !command.getFirst().equals("chroot")) {
            return jar.toAbsolutePath().toString();
        }
        String inRoot = "/tmp/loom-echo-bench/" + jar.getFileName();
        try {
            Path copy = Path.of(command.get(1), inRoot);
            Files.createDirectories(copy.getParent());
            Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + jar + " into " + command.get(1), e);
        }
        return inRoot;
    }

    /** Its full version, e.g. 27.0.1.0.3+1-1-Debian, for the report. */
    String version() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(with(List.of("-XshowSettings:properties", "-version")))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("the servers' java does not start: " + String.join(" ", command) + "\n" + output);
        }
        Matcher m = RUNTIME.matcher(output);
        return m.find() ? m.group(1) : "unknown";
    }

    @Override
    public String toString() {
        return String.join(" ", command);
    }
}
