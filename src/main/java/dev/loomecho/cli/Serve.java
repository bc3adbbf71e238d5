package dev.loomecho.cli;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.ServerConfig;
import dev.loomecho.Supervision;
import dev.loomecho.engine.Listeners;
import dev.loomecho.fault.FaultFlag;
import dev.loomecho.fault.Faults;
import dev.loomecho.metrics.StatsLog;
import dev.loomecho.udp.UdpConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code loom-echo serve}: runs a server in the foreground until Ctrl-C or SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Run the echo server in the foreground until Ctrl-C / SIGTERM.",
        showDefaultValues = true, defaultValueProvider = ConfigDefaults.class)
final class Serve implements Callable<Integer> {

    static final String CONTROL_TOKEN_VARIABLE = "LOOM_ECHO_CONTROL_TOKEN";

    @Spec
    CommandSpec spec;

    @Option(names = "--bind", paramLabel = "ADDRESS", description = "Address to listen on.")
    InetAddress bind;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "TCP port; 0 picks a free one.")
    int port;

    @Option(names = {"-e", "--engine"}, paramLabel = "ENGINE", converter = EngineConverter.class,
            completionCandidates = EngineConverter.Names.class,
            description = "I/O model: ${COMPLETION-CANDIDATES}. See `loom-echo models`.")
    Engine engine;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "Connections served at once; more are accepted and closed at once.")
    int maxConnections;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Close a connection that makes no progress for this long (e.g. 30s, 500ms); 0 = never.")
    Duration idleTimeout;

    @Option(names = "--buffer-size", paramLabel = "BYTES",
            description = "Largest read buffer per connection; buffers start at 256 B and grow under bulk traffic.")
    int bufferSize;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "On shutdown, how long open connections may go on before they are closed.")
    Duration drainTimeout;

    @Option(names = "--threads", paramLabel = "N",
            description = "I/O threads, for the engines that use a pool (defaults to the available processors).")
    int threads;

    @Option(names = "--udp", description = "Also echo UDP datagrams (RFC 862), with reflection guards.")
    boolean udp;

    @Option(names = "--udp-port", paramLabel = "PORT", description = "UDP port; -1 = the TCP port's number.")
    int udpPort;

    @Option(names = "--udp-rate", paramLabel = "N", description = "UDP datagrams/s answered per source address.")
    int udpRate;

    @Option(names = "--udp-burst", paramLabel = "N", description = "UDP datagrams a source may send at once.")
    int udpBurst;

    @Option(names = "--udp-min-source-port", paramLabel = "PORT",
            description = "Drop datagrams from lower source ports (echo/chargen reflection).")
    int udpMinSourcePort;

    @Option(names = "--udp-blocked-ports", paramLabel = "PORT", split = ",",
            description = "Further source ports to drop, comma-separated.")
    Set<Integer> udpBlockedPorts;

    @Option(names = "--udp-loop-limit", paramLabel = "N",
            description = "Refuse a source's next copy of a datagram after answering it N times "
                    + "(ends a loop with another echo server); 0 = off.")
    int udpLoopLimit;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus metrics at http://BIND:PORT/metrics, and /health and /ready for probes; "
                    + "-1 = off, 0 = any free port.")
    int metricsPort;

    @Option(names = "--log-connections", description = "Log one line per closed connection: remote, lifetime, bytes.")
    boolean logConnections;

    @Option(names = "--stats-interval", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Log a live view every DURATION (e.g. 1s): connections, bytes/s, platform threads, "
                    + "virtual-thread scheduler.")
    Duration statsInterval;

    @Option(names = "--reuse-port",
            description = "Set SO_REUSEPORT so several loom-echo processes can share the port (Linux, BSD).")
    boolean reusePort;

    @Option(names = "--seed", paramLabel = "N",
            description = "Seed the per-connection --toxicity choices, so a run can be repeated.")
    Long seed;

    @Option(names = "--control-port", paramLabel = "PORT",
            description = "Serve the control API (GET/PUT/DELETE /faults, GET /stats) at http://BIND:PORT; "
                    + "-1 = off, 0 = any free port. Off loopback it needs --control-token.")
    int controlPort;

    @Option(names = "--control-token", paramLabel = "TOKEN",
            description = "Require Authorization: Bearer TOKEN on the control API; default: the "
                    + CONTROL_TOKEN_VARIABLE + " environment variable (which, unlike an argument, ps does not show).")
    String controlToken;

    @Mixin
    TlsOptions tls;

    // Fault flags are text: the one grammar in FaultFlag parses them here and in the control API's JSON.
    @Option(names = "--latency", paramLabel = "MS[:JITTER]",
            description = "Fault: delay each echo by MS milliseconds, ± JITTER.")
    String latency;

    @Option(names = "--bandwidth", paramLabel = "BYTES_PER_S", description = "Fault: pace the echo to this rate; 0 = unlimited.")
    String bandwidth;

    @Option(names = "--slice", paramLabel = "BYTES[:DELAY_MS]",
            description = "Fault: echo in chunks of BYTES, DELAY_MS apart (tests client framing).")
    String slice;

    @Option(names = "--close-after", paramLabel = "BYTES", description = "Fault: close (FIN) after echoing BYTES; -1 = off.")
    String closeAfter;

    @Option(names = "--reset-after", paramLabel = "BYTES", description = "Fault: reset (RST) after echoing BYTES; -1 = off.")
    String resetAfter;

    @Option(names = "--stall-after", paramLabel = "BYTES",
            description = "Fault: stop echoing after BYTES but keep the connection open (tests client timeouts); -1 = off.")
    String stallAfter;

    @Option(names = "--read-bandwidth", paramLabel = "BYTES_PER_S",
            description = "Fault: pace how fast the server reads, so the client's writes meet TCP back-pressure; 0 = unlimited.")
    String readBandwidth;

    @Option(names = "--toxicity", paramLabel = "P",
            description = "The share (0-1) of new connections the faults apply to, chosen per connection (see --seed).")
    String toxicity;

    @Override
    public Integer call() throws Exception {
        // First: a signal during the start (reading key files, binding) must stop the server, not the JVM at once.
        try (TerminationSignals signals = TerminationSignals.install()) {
            return serve(signals);
        }
    }

    private int serve(TerminationSignals signals) throws Exception {
        ServerConfig config = toConfig();
        EchoServer server;
        try {
            // /ready stays 503 "starting" until the lines below are printed and the files they name written.
            // Ctrl-C / SIGTERM: close() stops accepting, drains for --drain-timeout, releases the port; then we
            // exit 0. A signal that came during the start closes it here, before /ready could turn 200.
            server = EchoServer.start(config, started -> {
                announce(started, config);
                signals.started(started);
            });
        } catch (IOException | UnsupportedOperationException e) { // a busy port, a file --tls-ca-out cannot write
            err().println("loom-echo: " + Objects.requireNonNullElse(e.getMessage(), e.toString()));
            return 1;
        }
        EchoServer.Drain drain;
        try (StatsLog live = statsInterval == null ? null : StatsLog.start(server::stats, statsInterval)) {
            drain = server.awaitClosed();
        }
        out().println(stopped(signals.stoppedBy(), drain, config.drainTimeout()));
        out().flush();
        return 0;
    }

    /** Where the started server serves, and the files asked for: what a client may count on once /ready is 200. */
    private void announce(EchoServer server, ServerConfig config) throws IOException {
        out().printf("loom-echo %s listening on %s (engine %s%s, max %d connections, idle timeout %s)%n",
                version(), Listeners.describe(server.address()), config.engine().cliName(),
                server.supervision() == Supervision.NONE ? "" : " under a " + describe(server.supervision()),
                config.maxConnections(),
                config.idleTimeout().isZero() ? "off" : DurationConverter.format(config.idleTimeout()));
        tls.announce(server, out());
        server.udpAddress().ifPresent(udpAddress ->
                out().printf("loom-echo UDP echo on %s%n", Listeners.describe(udpAddress)));
        server.metricsAddress().ifPresent(metrics ->
                out().printf("loom-echo metrics on http://%s/metrics%n", Listeners.describe(metrics)));
        server.controlAddress().ifPresent(control ->
                out().printf("loom-echo control API on http://%s (GET/PUT/DELETE /faults, GET /stats%s%s)%n",
                        Listeners.describe(control), server.hasTls() ? ", GET /tls/ca.pem" : "",
                        config.controlToken().isPresent() ? "; bearer token required" : ""));
        out().flush();
    }

    /** The one line that ends a run: what stopped it and what the drain did with the open connections. */
    static String stopped(String by, EchoServer.Drain drain, Duration drainTimeout) {
        String stopped = "loom-echo stopped on " + by + " after " + DurationConverter.format(drain.took()) + ": ";
        if (drain.open() == 0) {
            return stopped + "no connection was open";
        }
        return stopped + drain.open() + (drain.open() == 1 ? " connection" : " connections") + " open, "
                + drain.finished() + " finished within the drain timeout (" + DurationConverter.format(drainTimeout)
                + "), " + drain.cutOff() + " closed at it";
    }

    private ServerConfig toConfig() {
        if (statsInterval != null && statsInterval.toMillis() < 1) {
            throw new ParameterException(spec.commandLine(), "stats-interval must be at least 1ms, was " + statsInterval);
        }
        try {
            ServerConfig.Builder builder = ServerConfig.builder()
                    .bindAddress(bind).port(port).engine(engine).maxConnections(maxConnections)
                    .idleTimeout(idleTimeout).bufferSize(bufferSize).drainTimeout(drainTimeout).threads(threads)
                    .udp(new UdpConfig(udp, udpPort, udpRate, udpBurst, udpMinSourcePort, udpBlockedPorts, udpLoopLimit))
                    .faults(faults())
                    .metricsPort(metricsPort).logConnections(logConnections).reusePort(reusePort)
                    .controlPort(controlPort).controlToken(controlToken())
                    .tls(tls.toConfig().orElse(null));
            if (seed != null) {
                builder.seed(seed);
            }
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** Each fault flag through the grammar the control API's JSON uses too; picocli fills in the defaults. */
    private Faults faults() {
        Map<FaultFlag, String> given = new EnumMap<>(FaultFlag.class);
        given.put(FaultFlag.LATENCY, latency);
        given.put(FaultFlag.BANDWIDTH, bandwidth);
        given.put(FaultFlag.SLICE, slice);
        given.put(FaultFlag.CLOSE_AFTER, closeAfter);
        given.put(FaultFlag.RESET_AFTER, resetAfter);
        given.put(FaultFlag.STALL_AFTER, stallAfter);
        given.put(FaultFlag.READ_BANDWIDTH, readBandwidth);
        given.put(FaultFlag.TOXICITY, toxicity);
        tls.putFaults(given);
        Faults faults = Faults.NONE;
        for (Map.Entry<FaultFlag, String> flag : given.entrySet()) {
            faults = flag.getKey().apply(faults, flag.getValue(), flag.getKey().flag());
        }
        return faults;
    }

    /** The flag, else the environment variable; an empty variable counts as unset. */
    private String controlToken() {
        if (controlToken != null) {
            return controlToken;
        }
        String fromEnvironment = System.getenv(CONTROL_TOKEN_VARIABLE);
        return fromEnvironment == null || fromEnvironment.isEmpty() ? null : fromEnvironment;
    }

    private static String describe(Supervision supervision) {
        return supervision == Supervision.STRUCTURED_TASK_SCOPE ? "StructuredTaskScope" : "thread-per-task executor";
    }

    private String version() {
        try {
            return new VersionProvider().getVersion()[0].replace("loom-echo ", "");
        } catch (Exception e) {
            return "unknown";
        }
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }

    private PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
