package dev.loomecho;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a main class of the test classpath in a child JVM inside a network namespace of its own
 * ({@code unshare -n}): the test may then reroute, slow down or cut its loopback ({@code ip}, {@code tc})
 * without touching the host's network. Needs root (or user namespaces) and iproute2.
 */
public final class NetworkNamespace {

    private static final Pattern RESULT = Pattern.compile("^RESULT (\\S+)=(\\S*)$", Pattern.MULTILINE);
    private static String unavailable;
    private static boolean probed;

    private NetworkNamespace() {
    }

    /** Null when namespaces work here; otherwise why not, for the test's skip message. */
    public static synchronized String unavailableBecause() {
        if (!probed) {
            probed = true;
            try {
                Run probe = shell(List.of("ip link set lo up",
                        "tc qdisc add dev lo root tbf rate 50kbit burst 1600 latency 1s",
                        "ip rule add pref 100 lookup local"), List.of("true"));
                unavailable = probe.exitCode == 0 ? null : "exit " + probe.exitCode + ": " + probe.output;
            } catch (IOException | InterruptedException e) {
                unavailable = e.toString();
            }
            if (unavailable != null) {
                unavailable = "needs a private network namespace (unshare -n, ip, tc; as root): " + unavailable;
            }
        }
        return unavailable;
    }

    /** Runs {@code setup} (shell commands) in a new network namespace, then {@code main args} in a JVM there. */
    public static Run run(List<String> setup, Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> java = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-preview", "-Xmx256m", "-cp", System.getProperty("java.class.path"), main.getName()));
        java.addAll(List.of(args));
        return shell(setup, java);
    }

    private static Run shell(List<String> setup, List<String> command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of("unshare", "-n", "--", "bash", "-c",
                "set -e; " + String.join("; ", setup) + "; exec \"$@\"", "bash"));
        line.addAll(command);
        Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                output.append(new String(process.getInputStream().readAllBytes()));
            } catch (IOException e) {
                output.append(e);
            }
        });
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        reader.join();
        return new Run(process.isAlive() ? -1 : process.exitValue(), output.toString());
    }

    /** A finished child: its exit code, its output, and the {@code RESULT key=value} lines it printed. */
    public record Run(int exitCode, String output) {
        public String result(String key) {
            Matcher m = RESULT.matcher(output);
            while (m.find()) {
                if (m.group(1).equals(key)) {
                    return m.group(2);
                }
            }
            throw new AssertionError("no RESULT " + key + " in the child's output:\n" + output);
        }

        public long number(String key) {
            return Long.parseLong(result(key));
        }
    }
}
