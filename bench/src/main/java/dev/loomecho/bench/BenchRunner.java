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
 * <p>Each round starts each server in turn (our engines, then Netty epoll) as its own JVM pinned to
 * CPU 1, warms it up, and drives the throughput scenarios from a load-generator JVM pinned to CPU 0.
 * Pinning gives server and client one core each, so no server can win by starving the client. Around
 * each scenario the runner reads the server's CPU time and context switches from /proc, so servers are
 * ranked by what a message costs them even when the client sets the pace. The idle-memory scenario
 * runs once per server after the rounds (its figure is a count, not a race).
 *
 * <p>Usage: {@code java -jar loom-echo-bench.jar [--quick] [--rounds N] [--out DIR]
 * [--client selector|threads] [--servers a,b,...] [--placement pinned|unpinned|both] [--java COMMAND]
 * [--variant NAME:ENGINE:JVM_OPTIONS]...}, from the project root. By default the rounds run twice: pinned
 * ({@code latest.md}, the ranking), then unpinned, server and client sharing both cores as most users run
 * them ({@code latest-unpinned.md}). The product servers get the JVM options in {@code LOOM_ECHO_JVM_OPTIONS}
 * (what {@code ./run.sh} would pass; it sets this). {@code --java} runs every server on another java (see
 * {@link ServerJava}); the load generator stays on this one. A {@code --variant} is one more server: ENGINE
 * with extra JVM options (space-separated), e.g. {@code virtual-poller3:virtual:-Djdk.pollerMode=3}, run
 * right after ENGINE in every round, so the two are measured side by side.
 */
public final class BenchRunner {

    /**
     * Where server and client run. Pinned (the ranking set): one core each, so no server wins by starving
     * the client. Unpinned: both share both cores, as most users run them; the server JVM then sees two
     * CPUs (two I/O threads, two carriers, G1) and the figures include the scheduler's own choices.
     */
    record Placement(String name, String serverCpus, String clientCpus, String report) {
    }

    static final Placement PINNED = new Placement("pinned", "1", "0", "latest");
    static final Placement UNPINNED = new Placement("unpinned", "0,1", "0,1", "latest-unpinned");
    private static final int PORT = 7100;
    /** The TLS listener of every server that has one: ours beside the plain one, Netty's likewise. */
    private static final int TLS_PORT = 7101;
    static final String PEER = "netty-epoll";
    private static final List<String> ENGINES = List.of("virtual", "platform", "completion", "future", "selector");
    private static final List<String> TLS_ENGINES = List.of("virtual", "platform", "selector");
    private static final Path TLS_DIR = Path.of("bench/target/tls");
    private static final Path KEY_STORE = TLS_DIR.resolve("server.p12");
    private static final Path CERTIFICATE = TLS_DIR.resolve("server.pem");
    private static final String KEY_STORE_PASSWORD = "loom-echo-bench";

    /** @param tls whether it has a TLS listener on {@link #TLS_PORT} */
    record Server(String name, List<String> command, List<String> jcmd, boolean tls) {
    }

    /**
     * An engine again under another name, with extra JVM options: {@code NAME:ENGINE:OPTIONS}. Among the
     * options, {@code --jar=PATH} is no JVM option but another build of loom-echo to serve (an older
     * commit, say), so two builds alternate in the same rounds on the same machine; it gets no TLS
     * listener, since an older build may have none.
     */
    record Variant(String name, String engine, List<String> jvmOptions, Path jar) {
        static Variant parse(String spec) {
            String[] parts = spec.split(":", 3);
            if (parts.length != 3 || parts[0].isBlank() || !ENGINES.contains(parts[1]) || ENGINES.contains(parts[0])
                    || parts[0].equals(PEER) || parts[2].isBlank()) {
                System.err.println("bench: --variant wants NAME:ENGINE:JVM_OPTIONS with a new NAME and ENGINE one of "
                        + ENGINES + ", e.g. virtual-poller3:virtual:-Djdk.pollerMode=3; got '" + spec + "'");
                usage();
            }
            List<String> options = new ArrayList<>();
            Path jar = null;
            for (String option : parts[2].trim().split("\\s+")) {
                if (option.startsWith("--jar=")) {
                    jar = Path.of(option.substring("--jar=".length()));
                } else {
                    options.add(option);
                }
            }
            return new Variant(parts[0], parts[1], List.copyOf(options), jar);
        }
    }

    /**
     * @param unit what one "message" is in this scenario, for the per-message columns
     * @param churn whether it needs the thread driver (the selector driver does not churn)
     * @param tls whether it runs over TLS (the thread driver, the servers with a TLS listener only)
     */
    record Scenario(String name, String metric, String unit, boolean churn, List<String> loadArgs, boolean tls) {
        Scenario(String name, String metric, String unit, boolean churn, List<String> loadArgs) {
            this(name, metric, unit, churn, loadArgs, false);
        }
    }

    /** One scenario against one server in one round: the client's result and the server's /proc difference. */
    record Run(int round, Server server, Scenario scenario, Map<String, Double> values, ProcStats.Sample cost,
               double serverCoreBusy, double clientCoreBusy) {
        double metric() {
            return values.get(scenario.metric());
        }

        double messages() {
            return Math.max(1, values.get("messages"));
        }

        double seconds() {
            return values.get("seconds");
        }

        double cpuMicrosPerMessage() {
            return cost.cpuNanos() / 1e3 / messages();
        }

        double switchesPerMessage() {
            return cost.contextSwitches() / messages();
        }

        /** The server process's own CPU time over the wall time: its share of its one pinned core. */
        double serverBusy() {
            return cost.cpuNanos() / 1e9 / seconds();
        }

        /** The client process's share of its core. */
        double clientBusy() {
            return values.getOrDefault("cpuSeconds", -1.0) / seconds();
        }

        boolean ok() {
            return values.get("ok") == 1;
        }
    }

    private final Path java = Path.of(ProcessHandle.current().info().command().orElse("java"));
    private final ServerJava serverJava;
    private final List<Variant> variants;
    private final Path productJar = Path.of("target/loom-echo.jar");
    private final Path benchJar = Path.of("bench/target/loom-echo-bench.jar");
    private final List<String> jvmOptions = jvmOptions();
    private final boolean quick;
    private final int rounds;
    private final Path out;
    private final String client;
    private final List<String> only;
    private final Duration length;
    private final int idleConnections;
    private final Duration idleHold;
    private final List<Placement> placements;
    private Placement placement = PINNED;

    private BenchRunner(boolean quick, int rounds, Path out, String client, List<String> only, List<Placement> placements,
                        ServerJava serverJava, List<Variant> variants) {
        this.placements = placements;
        this.serverJava = serverJava;
        this.variants = variants;
        this.quick = quick;
        this.rounds = rounds;
        this.out = out;
        this.client = client;
        this.only = only;
        this.length = quick ? Duration.ofSeconds(2) : Duration.ofSeconds(6);
        this.idleConnections = quick ? 2_000 : 10_000; // under the 20,000 open files per process here
        this.idleHold = quick ? Duration.ofSeconds(4) : Duration.ofSeconds(30);
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        int rounds = -1;
        Path out = Path.of("bench/results");
        String client = "selector";
        List<String> only = List.of();
        List<Placement> placements = List.of(PINNED, UNPINNED);
        ServerJava serverJava = new ServerJava(List.of(ProcessHandle.current().info().command().orElse("java")));
        List<Variant> variants = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--quick" -> quick = true;
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    case "--out" -> out = Path.of(args[++i]);
                    case "--client" -> client = List.of("selector", "threads").contains(args[++i]) ? args[i] : usage();
                    case "--servers" -> only = List.of(args[++i].split(","));
                    case "--placement" -> placements = switch (args[++i]) {
                        case "pinned" -> List.of(PINNED);
                        case "unpinned" -> List.of(UNPINNED);
                        case "both" -> List.of(PINNED, UNPINNED);
                        default -> { usage(); yield null; }
                    };
                    case "--java" -> serverJava = ServerJava.parse(args[++i]);
                    case "--variant" -> variants.add(Variant.parse(args[++i]));
                    default -> usage();
                }
            }
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            usage();
        }
        BenchRunner runner = new BenchRunner(quick, rounds > 0 ? rounds : quick ? 1 : 3, out, client, only, placements,
                serverJava, variants);
        for (Placement placement : placements) {
            runner.placement = placement;
            runner.run();
        }
    }

    private static String usage() {
        System.err.println("usage: bench [--quick] [--rounds N] [--out DIR] [--client selector|threads] [--servers a,b,...]"
                + " [--placement pinned|unpinned|both] [--java COMMAND] [--variant NAME:ENGINE:JVM_OPTIONS]...");
        System.exit(2);
        return null;
    }

    /** What ./run.sh passes to the JVM (it exports them), so the benchmark runs the server as users do. */
    private static List<String> jvmOptions() {
        String options = System.getenv().getOrDefault("LOOM_ECHO_JVM_OPTIONS", "").trim();
        return options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
    }

    private List<Server> servers() {
        String jar = serverJava.pathOf(productJar);
        List<Server> servers = new ArrayList<>();
        for (String engine : ENGINES) {
            servers.add(product(engine, engine, List.of(), jar));
            for (Variant variant : variants) {
                if (variant.engine().equals(engine)) {
                    servers.add(variant.jar() == null ? product(variant.name(), engine, variant.jvmOptions(), jar)
                            : product(variant.name(), engine, variant.jvmOptions(), serverJava.pathOf(variant.jar()), false));
                }
            }
        }
        // Netty gets the same JVM-wide options (e.g. object-header layout), but not preview: it has no use for it.
        List<String> netty = new ArrayList<>(jvmOptions.stream().filter(o -> !o.equals("--enable-preview")).toList());
        netty.addAll(List.of("-Xmx1g", "--enable-native-access=ALL-UNNAMED", "-cp", serverJava.pathOf(benchJar),
                NettyEchoServer.class.getName(), String.valueOf(PORT), String.valueOf(TLS_PORT),
                serverJava.pathOf(KEY_STORE), KEY_STORE_PASSWORD));
        servers.add(new Server(PEER, serverJava.with(netty), serverJava.jcmd(), true));
        // Netty always runs (every ratio is to it), and so does every variant: each was asked for by name.
        List<String> variantNames = variants.stream().map(Variant::name).toList();
        return servers.stream().filter(s -> only.isEmpty() || only.contains(s.name()) || s.name().equals(PEER)
                || variantNames.contains(s.name())).toList();
    }

    private Server product(String name, String engine, List<String> extraOptions, String jar) {
        return product(name, engine, extraOptions, jar, TLS_ENGINES.contains(engine));
    }

    private Server product(String name, String engine, List<String> extraOptions, String jar, boolean tls) {
        List<String> options = new ArrayList<>(jvmOptions);
        options.addAll(extraOptions);
        options.addAll(List.of("-Xmx1g", "-jar", jar, "serve", "--port", String.valueOf(PORT),
                "--engine", engine, "--max-connections", "15000", "--idle-timeout", "120s"));
        if (tls) {
            options.addAll(List.of("--tls-port", String.valueOf(TLS_PORT), "--tls-keystore", serverJava.pathOf(KEY_STORE),
                    "--tls-keystore-password", KEY_STORE_PASSWORD));
        }
        return new Server(name, serverJava.with(options), serverJava.jcmd(), tls);
    }

    /** The servers' JVM options for the report: ./run.sh's, the variants', and the java they run on if not ours. */
    private String describeOptions() throws IOException, InterruptedException {
        List<String> parts = new ArrayList<>();
        parts.add(jvmOptions.isEmpty() ? "none" : String.join(" ", jvmOptions));
        for (Variant variant : variants) {
            parts.add(variant.name() + ": " + String.join(" ", variant.jvmOptions())
                    + (variant.jar() == null ? "" : " serving " + variant.jar()));
        }
        if (!serverJava.command().equals(List.of(java.toString()))) {
            parts.add("servers on Java " + serverJava.version() + " (" + serverJava + ")");
        }
        return String.join("; ", parts);
    }

    private List<Scenario> throughputScenarios() {
        String seconds = length.toSeconds() + "s";
        return List.of(
                new Scenario("100 conns x 64 B ping-pong", "msgsPerSec", "message", false,
                        List.of("-c", "100", "-s", "64", "-d", seconds)),
                new Scenario("1,000 conns x 1 KiB", "msgsPerSec", "message", false,
                        List.of("-c", "1000", "-s", "1024", "-d", seconds)),
                new Scenario("10 conns x 64 KiB bulk", "mibPerSec", "64 KiB message", false,
                        List.of("-c", "10", "-s", "65536", "-d", seconds)),
                new Scenario("50 conns x 64 B, 16 pipelined", "msgsPerSec", "message", false,
                        List.of("-c", "50", "-s", "64", "--pipeline", "16", "-d", seconds)),
                new Scenario("connect-echo-close churn (50 clients)", "connectionsPerSec", "connection", true,
                        List.of("-c", "50", "-s", "64", "--churn", "-d", seconds)),
                new Scenario("TLS 1.3: 100 conns x 1 KiB", "msgsPerSec", "message", false,
                        List.of("-c", "100", "-s", "1024", "-d", seconds), true),
                new Scenario("TLS 1.3: a handshake per connection, churn (50 clients)", "connectionsPerSec", "handshake",
                        true, List.of("-c", "50", "-s", "64", "--churn", "-d", seconds), true));
    }

    /**
     * One key and certificate for every TLS server, made with the JDK's keytool (EC P-256, as loom-echo's
     * generated ones): a PKCS#12 store the servers serve, and its certificate in PEM, which the client trusts.
     */
    private static void prepareTls() throws IOException, InterruptedException {
        Files.createDirectories(TLS_DIR);
        Files.deleteIfExists(KEY_STORE);
        Path keytool = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("keytool");
        run(List.of(keytool.toString(), "-genkeypair", "-keystore", KEY_STORE.toString(), "-storetype", "PKCS12",
                "-storepass", KEY_STORE_PASSWORD, "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2"));
        run(List.of(keytool.toString(), "-exportcert", "-rfc", "-keystore", KEY_STORE.toString(), "-storepass",
                KEY_STORE_PASSWORD, "-alias", "server", "-file", CERTIFICATE.toString()));
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
    }

    private void run() throws Exception {
        requireFile(productJar, "run ./run.sh bench, which builds it");
        requireFile(benchJar, "run ./run.sh bench, which builds it");
        prepareTls();
        List<Server> servers = servers();
        List<Scenario> scenarios = throughputScenarios();
        List<Run> runs = new ArrayList<>();
        long started = System.nanoTime();
        for (int round = 1; round <= rounds; round++) {
            for (Server server : servers) {
                log("%s round %d/%d: %s", placement.name(), round, rounds, server.name());
                try (ServerProcess process = ServerProcess.start(server, placement)) {
                    warmUp(server.tls());
                    for (Scenario scenario : scenarios) {
                        if (scenario.tls() && !server.tls()) {
                            continue; // completion and future have no TLS listener
                        }
                        ProcStats.Sample before = process.proc().sample();
                        ProcStats.CoreSample serverCore = ProcStats.cores(placement.serverCpus());
                        ProcStats.CoreSample clientCore = ProcStats.cores(placement.clientCpus());
                        Map<String, Double> values = load(scenario.churn(), scenario.tls(), scenario.loadArgs());
                        Run run = new Run(round, server, scenario, values, process.proc().sample().minus(before),
                                ProcStats.cores(placement.serverCpus()).busySince(serverCore),
                                ProcStats.cores(placement.clientCpus()).busySince(clientCore));
                        runs.add(run);
                        log("  %-40s %,12.1f %s  p99 %,8.0f µs  server %6.2f µs/%s, %5.2f cs/%s, process %3.0f%%"
                                        + " core %3.0f%%; client process %3.0f%% core %3.0f%%%s",
                                scenario.name(), run.metric(), scenario.metric(), values.get("p99"),
                                run.cpuMicrosPerMessage(), scenario.unit(), run.switchesPerMessage(), scenario.unit(),
                                100 * run.serverBusy(), 100 * run.serverCoreBusy(), 100 * run.clientBusy(),
                                100 * run.clientCoreBusy(), run.ok() ? "" : "  NOT OK");
                    }
                }
            }
        }
        Map<String, IdleFootprint> idle = new LinkedHashMap<>();
        for (Server server : placement == placements.get(0) ? servers : List.<Server>of()) { // a count: once is enough
            log("idle: %s, %,d connections held %ds", server.name(), idleConnections, idleHold.toSeconds());
            idle.put(server.name(), measureIdle(server));
            log("  %s", idle.get(server.name()));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        Files.createDirectories(out);
        Report report = new Report(servers, scenarios, runs, idle, rounds, quick, took, idleConnections, idleHold,
                client, describeOptions());
        String machine = describeMachine() + "; " + placement.name() + ": server on CPU " + placement.serverCpus()
                + ", client on CPU " + placement.clientCpus();
        Files.writeString(out.resolve(placement.report() + ".md"), report.markdown(machine, placement == PINNED,
                placement.report() + ".svg"));
        Files.writeString(out.resolve(placement.report() + ".svg"), report.svg());
        log("wrote %s and %s in %ds", out.resolve(placement.report() + ".md"), out.resolve(placement.report() + ".svg"),
                took.toSeconds());
    }

    /**
     * JIT warm-up, not reported: steady traffic, then connections opened and closed (the accept path);
     * over TLS too when the server has it (the handshake and record paths).
     */
    private void warmUp(boolean tls) throws IOException, InterruptedException {
        String seconds = quick ? "1s" : "3s";
        load(false, false, List.of("-c", "50", "-s", "256", "-d", seconds));
        load(true, false, List.of("-c", "50", "-s", "64", "--churn", "-d", seconds));
        if (tls) {
            load(false, true, List.of("-c", "50", "-s", "256", "-d", seconds));
            load(true, true, List.of("-c", "20", "-s", "64", "--churn", "-d", seconds));
        }
    }

    /** Starts the load generator in its own pinned JVM and returns its JSON result as numbers. */
    private Map<String, Double> load(boolean churn, boolean tls, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("taskset", "-c", placement.clientCpus(), java.toString(),
                "-Xmx2g", "-jar", productJar.toString(), "load", "--port", String.valueOf(tls ? TLS_PORT : PORT), "--json",
                // the selector driver speaks plain TCP only
                "--driver", churn || tls ? "threads" : client));
        if (tls) {
            command.addAll(List.of("--tls-ca", CERTIFICATE.toString()));
        }
        command.addAll(args);
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException("load generator did not finish: " + command);
        }
        return Json.flatNumbers(output);
    }

    record IdleFootprint(long connections, double heapBytesPerConnection, double rssBytesPerConnection,
                         double threadsPerConnection, double connectSeconds, boolean ok) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,.0f B heap, %,.0f B RSS and %.3f threads per idle connection;"
                            + " %,d connected in %.2f s%s", heapBytesPerConnection, rssBytesPerConnection,
                    threadsPerConnection, connections, connectSeconds, ok ? "" : " (echo after hold FAILED)");
        }
    }

    /**
     * Server heap (after full GCs, via jcmd), RSS and threads, before and while {@code idleConnections} sit
     * idle. The server is warmed up first, as one that has run a while is: a parked virtual thread's
     * frames are copied into its StackChunk as they are, and interpreted frames — the accept-and-serve
     * path of a fresh JVM, before the JIT compiled it — take about twice the room of compiled ones.
     */
    private IdleFootprint measureIdle(Server server) throws Exception {
        try (ServerProcess process = ServerProcess.start(server, placement)) {
            warmUp(false);
            long heapBefore = process.usedHeapAfterGc();
            long rssBefore = process.proc().rssBytes();
            long threadsBefore = process.proc().threads();
            List<String> command = new ArrayList<>(List.of("taskset", "-c", placement.clientCpus(), java.toString(),
                    "-Xmx2g", "-jar", productJar.toString(), "load", "--port",
                    String.valueOf(PORT), "--json", "-c", String.valueOf(idleConnections), "-m", "1", "-s", "64",
                    "--driver", client, "--hold", idleHold.toSeconds() + "s"));
            Process load = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            // Measure in the middle of the hold, when every connection is open and silent.
            Thread.sleep(idleHold.toMillis() / 2 + (quick ? 1_000 : 5_000));
            long heapDuring = process.usedHeapAfterGc();
            long rssDuring = process.proc().rssBytes();
            long threadsDuring = process.proc().threads();
            Map<String, Double> result = Json.flatNumbers(new String(load.getInputStream().readAllBytes()));
            load.waitFor(5, TimeUnit.MINUTES);
            long connected = result.getOrDefault("connections", 0.0).longValue();
            double n = Math.max(1, connected);
            return new IdleFootprint(connected, (heapDuring - heapBefore) / n, (rssDuring - rssBefore) / n,
                    (threadsDuring - threadsBefore) / n, result.getOrDefault("connectSeconds", -1.0),
                    result.get("ok") == 1);
        }
    }

    /** A server JVM pinned to its CPU; closing it kills it and waits. */
    private record ServerProcess(Process process, List<String> jcmd) implements AutoCloseable {
        static ServerProcess start(Server server, Placement placement) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("taskset", "-c", placement.serverCpus()));
            command.addAll(server.command());
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            ServerProcess started = new ServerProcess(process, server.jcmd());
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

        /** taskset execs java in place, so the process we started is the JVM. */
        ProcStats proc() {
            return new ProcStats(process.pid());
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

        private String jcmd(String command) throws IOException, InterruptedException {
            List<String> arguments = new ArrayList<>(jcmd);
            arguments.addAll(List.of(String.valueOf(process.pid()), command));
            Process p = new ProcessBuilder(arguments).redirectErrorStream(true).start();
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
