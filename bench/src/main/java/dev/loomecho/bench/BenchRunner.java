package dev.loomecho.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs every server against the same load, in alternating rounds, and writes
 * {@code bench/results/latest.md} and {@code latest.svg}.
 *
 * <p>Each round starts each server in turn (our four engines, then Netty epoll) as its own JVM pinned
 * to CPU 1, warms it up, and drives the throughput scenarios from a load-generator JVM pinned to CPU 0.
 * Pinning gives server and client one core each, so no server can win by starving the client.
 * The idle-memory scenario runs once per server after the rounds (its figure is a count, not a race).
 *
 * <p>Usage: {@code java -jar loom-echo-bench.jar [--quick] [--rounds N] [--out DIR]}, from the project root.
 */
public final class BenchRunner {

    private static final String SERVER_CPU = "1";
    private static final String CLIENT_CPU = "0";
    private static final int PORT = 7100;

    record Server(String name, List<String> command) {
    }

    record Scenario(String name, String metric, List<String> loadArgs) {
    }

    record Run(int round, Server server, Scenario scenario, Map<String, Double> values) {
        double metric() {
            return values.get(scenario.metric());
        }
    }

    private final Path java = Path.of(ProcessHandle.current().info().command().orElse("java"));
    private final Path productJar = Path.of("target/loom-echo.jar");
    private final Path benchJar = Path.of("bench/target/loom-echo-bench.jar");
    private final boolean quick;
    private final int rounds;
    private final Path out;
    private final Duration length;
    private final int idleConnections;
    private final Duration idleHold;

    private BenchRunner(boolean quick, int rounds, Path out) {
        this.quick = quick;
        this.rounds = rounds;
        this.out = out;
        this.length = quick ? Duration.ofSeconds(2) : Duration.ofSeconds(6);
        this.idleConnections = quick ? 2_000 : 10_000; // under the 20,000 open files per process here
        this.idleHold = quick ? Duration.ofSeconds(4) : Duration.ofSeconds(30);
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        int rounds = -1;
        Path out = Path.of("bench/results");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: bench [--quick] [--rounds N] [--out DIR]");
                    System.exit(2);
                }
            }
        }
        new BenchRunner(quick, rounds > 0 ? rounds : quick ? 1 : 3, out).run();
    }

    private List<Server> servers() {
        List<Server> servers = new ArrayList<>();
        for (String engine : List.of("virtual", "completion", "future", "selector")) {
            servers.add(new Server(engine, List.of(java.toString(), "--enable-preview", "-Xmx1g", "-jar",
                    productJar.toString(), "serve", "--port", String.valueOf(PORT), "--engine", engine,
                    "--max-connections", "15000", "--idle-timeout", "120s")));
        }
        servers.add(new Server("netty-epoll", List.of(java.toString(), "-Xmx1g",
                "--enable-native-access=ALL-UNNAMED", "-cp", benchJar.toString(),
                NettyEchoServer.class.getName(), String.valueOf(PORT))));
        return servers;
    }

    private List<Scenario> throughputScenarios() {
        String seconds = length.toSeconds() + "s";
        return List.of(
                new Scenario("100 conns x 64 B ping-pong", "msgsPerSec", List.of("-c", "100", "-s", "64", "-d", seconds)),
                new Scenario("1,000 conns x 1 KiB", "msgsPerSec", List.of("-c", "1000", "-s", "1024", "-d", seconds)),
                new Scenario("10 conns x 64 KiB bulk", "mibPerSec", List.of("-c", "10", "-s", "65536", "-d", seconds)),
                new Scenario("connect-echo-close churn (50 clients)", "connectionsPerSec",
                        List.of("-c", "50", "-s", "64", "--churn", "-d", seconds)));
    }

    private void run() throws Exception {
        requireFile(productJar, "run ./run.sh bench, which builds it");
        requireFile(benchJar, "run ./run.sh bench, which builds it");
        List<Server> servers = servers();
        List<Scenario> scenarios = throughputScenarios();
        List<Run> runs = new ArrayList<>();
        long started = System.nanoTime();
        for (int round = 1; round <= rounds; round++) {
            for (Server server : servers) {
                log("round %d/%d: %s", round, rounds, server.name());
                try (ServerProcess process = ServerProcess.start(server)) {
                    load(List.of("-c", "50", "-s", "256", "-d", quick ? "1s" : "3s")); // JIT warm-up, not reported
                    for (Scenario scenario : scenarios) {
                        Map<String, Double> values = load(scenario.loadArgs());
                        runs.add(new Run(round, server, scenario, values));
                        log("  %-40s %,12.1f %s  p99 %,.0f µs%s", scenario.name(), values.get(scenario.metric()),
                                scenario.metric(), values.get("p99"), values.get("ok") == 1 ? "" : "  NOT OK");
                    }
                }
            }
        }
        Map<String, IdleFootprint> idle = new LinkedHashMap<>();
        for (Server server : servers) {
            log("idle: %s, %,d connections held %ds", server.name(), idleConnections, idleHold.toSeconds());
            idle.put(server.name(), measureIdle(server));
            log("  %s", idle.get(server.name()));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        Files.createDirectories(out);
        Report report = new Report(servers, scenarios, runs, idle, rounds, quick, took, idleConnections, idleHold);
        Files.writeString(out.resolve("latest.md"), report.markdown(describeMachine()));
        Files.writeString(out.resolve("latest.svg"), report.svg());
        log("wrote %s and %s in %ds", out.resolve("latest.md"), out.resolve("latest.svg"), took.toSeconds());
    }

    /** Starts the load generator in its own pinned JVM and returns its JSON result as numbers. */
    private Map<String, Double> load(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("taskset", "-c", CLIENT_CPU, java.toString(),
                "--enable-preview", "-Xmx2g", "-jar", productJar.toString(), "load", "--port", String.valueOf(PORT),
                "--json"));
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException("load generator did not finish: " + command);
        }
        return Json.flatNumbers(output);
    }

    record IdleFootprint(long connections, double heapBytesPerConnection, double rssBytesPerConnection, boolean ok) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,.0f B heap and %,.0f B RSS per idle connection%s",
                    heapBytesPerConnection, rssBytesPerConnection, ok ? "" : " (echo after hold FAILED)");
        }
    }

    /** Server heap (after full GCs, via jcmd) and RSS, before and while {@code idleConnections} sit idle. */
    private IdleFootprint measureIdle(Server server) throws Exception {
        try (ServerProcess process = ServerProcess.start(server)) {
            long heapBefore = process.usedHeapAfterGc();
            long rssBefore = process.rssBytes();
            List<String> command = new ArrayList<>(List.of("taskset", "-c", CLIENT_CPU, java.toString(),
                    "--enable-preview", "-Xmx2g", "-jar", productJar.toString(), "load", "--port",
                    String.valueOf(PORT), "--json", "-c", String.valueOf(idleConnections), "-m", "1", "-s", "64",
                    "--hold", idleHold.toSeconds() + "s"));
            Process load = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            // Measure in the middle of the hold, when every connection is open and silent.
            Thread.sleep(idleHold.toMillis() / 2 + (quick ? 1_000 : 5_000));
            long heapDuring = process.usedHeapAfterGc();
            long rssDuring = process.rssBytes();
            Map<String, Double> result = Json.flatNumbers(new String(load.getInputStream().readAllBytes()));
            load.waitFor(5, TimeUnit.MINUTES);
            long connected = result.getOrDefault("connections", 0.0).longValue();
            return new IdleFootprint(connected, (heapDuring - heapBefore) / (double) Math.max(1, connected),
                    (rssDuring - rssBefore) / (double) Math.max(1, connected), result.get("ok") == 1);
        }
    }

    /** A server JVM pinned to its CPU; closing it kills it and waits. */
    private record ServerProcess(Process process) implements AutoCloseable {
        static ServerProcess start(Server server) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("taskset", "-c", SERVER_CPU));
            command.addAll(server.command());
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            ServerProcess started = new ServerProcess(process);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!started.accepting()) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    started.close();
                    throw new IllegalStateException(server.name() + " did not start listening on " + PORT);
                }
                Thread.sleep(100);
            }
            return started;
        }

        private boolean accepting() {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), PORT), 200);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        /**
         * Live heap bytes: the "Total" line of {@code jcmd GC.class_histogram}, which runs a full GC first.
         * Works the same whichever collector the JVM chose (a JVM pinned to one CPU picks Serial).
         */
        long usedHeapAfterGc() throws IOException, InterruptedException {
            jcmd("GC.run");
            Matcher total = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)").matcher(jcmd("GC.class_histogram"));
            if (!total.find()) {
                throw new IllegalStateException("no Total line from jcmd GC.class_histogram");
            }
            return Long.parseLong(total.group(1));
        }

        long rssBytes() throws IOException {
            long pid = javaPid();
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
            throw new IllegalStateException("no VmRSS for " + pid);
        }

        /** taskset execs java in place, so the process we started is the JVM. */
        private long javaPid() {
            return process.pid();
        }

        private String jcmd(String command) throws IOException, InterruptedException {
            Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(javaPid()), command)
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            return output;
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private static String describeMachine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("model name")).findFirst()
                    .map(line -> line.substring(line.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return String.format("%s, %d CPUs; Java %s; Netty %s; %s", cpu, Runtime.getRuntime().availableProcessors(),
                Runtime.version(), io.netty.util.Version.identify().values().stream()
                        .filter(v -> v.artifactId().equals("netty-transport-classes-epoll")).findFirst()
                        .map(io.netty.util.Version::artifactVersion).orElse("4.2"),
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME).substring(0, 16));
    }

    private static void requireFile(Path path, String hint) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException(path + " is missing: " + hint);
        }
    }

    static void log(String format, Object... args) {
        System.out.printf(Locale.ROOT, format + "%n", args);
        System.out.flush();
    }
}
