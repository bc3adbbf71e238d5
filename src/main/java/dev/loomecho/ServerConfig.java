package dev.loomecho;

import dev.loomecho.fault.Faults;
import dev.loomecho.tls.TlsConfig;
import dev.loomecho.udp.UdpConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything a server needs to start, validated once. The CLI and the embedding API both build this
 * record through {@link Builder}, whose constructor holds the only copy of every default.
 *
 * @param bindAddress    address to listen on; loopback by default, so a fresh start exposes nothing
 * @param port           TCP port; 0 picks a free ephemeral port (read it back with {@link EchoServer#port()})
 * @param engine         the I/O model that serves connections
 * @param maxConnections connections served at once; one more is accepted and closed at once (counted as rejected)
 * @param idleTimeout    a connection that makes no progress (nothing read, nothing written) for this long is
 *                       closed; {@link Duration#ZERO} = never
 * @param bufferSize     largest read buffer per connection; buffers start small and grow under bulk traffic
 * @param drainTimeout   on close, how long live connections may go on before they are closed by force
 * @param threads        size of the I/O thread pool, for the engines that have one
 * @param udp            UDP echo (off by default) and its anti-reflection guards
 * @param faults         faults injected into every echo (none by default); changeable while running
 * @param metricsPort    port of the Prometheus {@code /metrics} endpoint on the bind address; -1 = off, 0 = any
 * @param logConnections log one line per closed connection (remote, lifetime, bytes)
 * @param reusePort      set SO_REUSEPORT, so several processes can share one port (Linux, BSD)
 * @param seed           seeds the per-connection toxicity choices ({@link Faults#toxicity()}), so a run can be
 *                       repeated; empty = a different sequence each time
 * @param controlPort    port of the HTTP control API ({@code /faults}, {@code /stats}) on the bind address;
 *                       -1 = off, 0 = any. It changes how the server behaves, so off loopback it needs a token
 * @param controlToken   the bearer token the control API requires; required when it listens off loopback.
 *                       Never logged: {@link #toString()} hides it
 * @param tls            a TLS listener beside the plain one, on the same bind address; empty = none
 */
public record ServerConfig(
        InetAddress bindAddress,
        int port,
        Engine engine,
        int maxConnections,
        Duration idleTimeout,
        int bufferSize,
        Duration drainTimeout,
        int threads,
        UdpConfig udp,
        Faults faults,
        int metricsPort,
        boolean logConnections,
        boolean reusePort,
        OptionalLong seed,
        int controlPort,
        Optional<String> controlToken,
        Optional<TlsConfig> tls) {

    public static final int DEFAULT_PORT = 7007;
    /** Smallest allowed {@code bufferSize}; also where an idle connection's read buffer starts. */
    public static final int MIN_BUFFER_SIZE = 512;
    public static final int MAX_BUFFER_SIZE = 16 * 1024 * 1024;
    /**
     * The longest timeout: the server counts time in nanoseconds, and a long holds about 292 years of
     * them. Checked here, so a longer one fails before anything starts, not in the middle of it.
     */
    public static final Duration MAX_DURATION = Duration.ofNanos(Long.MAX_VALUE);

    public ServerConfig {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(udp, "udp");
        Objects.requireNonNull(faults, "faults");
        Objects.requireNonNull(tls, "tls");
        require(tls.isEmpty() || engine.servesTls(), "tls-port needs an engine that serves TLS ("
                + Engine.namesServingTls() + "), not " + engine.cliName());
        require(tls.isEmpty() || port == 0 || tls.get().port() != port,
                "tls-port must differ from port (both " + port + "): the TLS listener is a second one");
        requireFaultsSupported(engine, tls, faults);
        require(metricsPort >= -1 && metricsPort <= 65_535, "metrics-port must be 0..65535, was " + metricsPort);
        require(port >= 0 && port <= 65_535, "port must be 0..65535, was " + port);
        require(maxConnections >= 1, "max-connections must be at least 1, was " + maxConnections);
        requireCountable("idle-timeout", idleTimeout);
        require(idleTimeout.isZero() || idleTimeout.toMillis() >= 1,
                "idle-timeout must be 0 (none) or at least 1ms, was " + idleTimeout);
        require(bufferSize >= MIN_BUFFER_SIZE && bufferSize <= MAX_BUFFER_SIZE,
                "buffer-size must be " + MIN_BUFFER_SIZE + ".." + MAX_BUFFER_SIZE + " bytes, was " + bufferSize);
        require(!drainTimeout.isNegative(), "drain-timeout must not be negative, was " + drainTimeout);
        requireCountable("drain-timeout", drainTimeout);
        require(threads >= 1, "threads must be at least 1, was " + threads);
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(controlToken, "controlToken");
        require(controlPort >= -1 && controlPort <= 65_535, "control-port must be 0..65535 (-1 = off), was " + controlPort);
        require(controlToken.stream().allMatch(ServerConfig::isBearerToken),
                "control-token must be printable ASCII without spaces"); // the message must not echo the token
        require(controlPort < 0 || bindAddress.isLoopbackAddress() || controlToken.isPresent(), "control-port on "
                + bindAddress.getHostAddress() + " (not loopback) needs --control-token or LOOM_ECHO_CONTROL_TOKEN: "
                + "anyone who reaches the port could change how the server behaves");
    }

    private static boolean isBearerToken(String token) {
        return !token.isEmpty() && token.chars().allMatch(c -> c > ' ' && c < 0x7f);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The configuration with every default; what {@code ./run.sh} with no arguments serves. */
    public static ServerConfig defaults() {
        return builder().build();
    }

    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(bindAddress, port);
    }

    /** Written out so that the control token never appears in a log line or an exception message. */
    @Override
    public String toString() {
        return "ServerConfig[bindAddress=" + bindAddress + ", port=" + port + ", engine=" + engine
                + ", maxConnections=" + maxConnections + ", idleTimeout=" + idleTimeout + ", bufferSize=" + bufferSize
                + ", drainTimeout=" + drainTimeout + ", threads=" + threads + ", udp=" + udp + ", faults=" + faults
                + ", metricsPort=" + metricsPort + ", logConnections=" + logConnections + ", reusePort=" + reusePort
                + ", seed=" + seed + ", controlPort=" + controlPort
                + ", controlToken=" + (controlToken.isPresent() ? "(hidden)" : "none") + ", tls=" + tls + "]";
    }

    /** Where the TLS listener binds: the bind address and {@code tls.port()}; only with a TLS listener. */
    public InetSocketAddress tlsAddress() {
        return new InetSocketAddress(bindAddress, tls.orElseThrow().port());
    }

    /** Where UDP listens: the bind address, and {@code udp.port()} or else the TCP port actually bound. */
    public InetSocketAddress udpAddress(int boundTcpPort) {
        return new InetSocketAddress(bindAddress, udp.port() >= 0 ? udp.port() : boundTcpPort);
    }


    /**
     * Rejects faults the server cannot inject, saying why: the engine (see {@link Engine.FaultSupport}), or
     * TLS faults without a TLS listener, or certificate faults when the server presents the user's own key.
     */
    public static void requireFaultsSupported(Engine engine, Optional<TlsConfig> tls, Faults faults) {
        require(faults.tls().isNone() || tls.isPresent(), "the tls-... faults need a TLS listener (--tls-port)");
        require(!faults.tls().changesCertificate() || tls.isEmpty() || tls.get().key().isEmpty(), "tls-cert-expired "
                + "and tls-cert-wrong-host present certificates the server generates, signed by its own CA; with "
                + "your own key (--tls-cert or --tls-keystore) there is no such CA");
        require(faults.isNone() || engine.faultSupport() != Engine.FaultSupport.NONE, "fault injection needs an "
                + "engine on which one connection can wait without holding up the others ("
                + enginesWith(Engine.FaultSupport.ALL_BUT_RESET) + "), not " + engine.cliName());
        require(faults.resetAfter() < 0 || engine.faultSupport() == Engine.FaultSupport.ALL, "reset-after needs "
                + "SO_LINGER, which asynchronous channels do not offer: use " + enginesWith(Engine.FaultSupport.ALL)
                + ", not " + engine.cliName());
    }

    /** The engines that support at least {@code support}, for messages: "virtual, platform or future". */
    private static String enginesWith(Engine.FaultSupport support) {
        List<String> names = Arrays.stream(Engine.values())
                .filter(e -> e.faultSupport().compareTo(support) >= 0).map(Engine::cliName).toList();
        return names.size() == 1 ? names.getFirst()
                : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.getLast();
    }

    private static void requireCountable(String name, Duration duration) {
        require(duration.compareTo(MAX_DURATION) <= 0,
                name + " must be at most 292 years (" + MAX_DURATION + "), was " + duration);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Mutable builder; every default lives in its field initializers. */
    public static final class Builder {
        private InetAddress bindAddress = InetAddress.getLoopbackAddress();
        private int port = DEFAULT_PORT;
        private Engine engine = Engine.VIRTUAL;
        private int maxConnections = 10_000;
        private Duration idleTimeout = Duration.ofSeconds(60);
        private int bufferSize = 64 * 1024;
        private Duration drainTimeout = Duration.ofSeconds(2);
        private int threads = Runtime.getRuntime().availableProcessors();
        private UdpConfig udp = UdpConfig.DEFAULTS;
        private Faults faults = Faults.NONE;
        private int metricsPort = -1;
        private boolean logConnections;
        private boolean reusePort;
        private OptionalLong seed = OptionalLong.empty();
        private int controlPort = -1;
        private Optional<String> controlToken = Optional.empty();
        private Optional<TlsConfig> tls = Optional.empty();

        private Builder() {
        }

        public Builder bindAddress(InetAddress bindAddress) {
            this.bindAddress = bindAddress;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder engine(Engine engine) {
            this.engine = engine;
            return this;
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        public Builder bufferSize(int bufferSize) {
            this.bufferSize = bufferSize;
            return this;
        }

        public Builder drainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        /** UDP echo settings; e.g. {@code udp(UdpConfig.DEFAULTS.withEnabled(true))}. */
        public Builder udp(UdpConfig udp) {
            this.udp = udp;
            return this;
        }

        /** Faults to inject from the start; {@link EchoServer#faults(Faults)} changes them later. */
        public Builder faults(Faults faults) {
            this.faults = faults;
            return this;
        }

        /** Serve Prometheus metrics on this port (0 = any free port); -1, the default, turns them off. */
        public Builder metricsPort(int metricsPort) {
            this.metricsPort = metricsPort;
            return this;
        }

        public Builder logConnections(boolean logConnections) {
            this.logConnections = logConnections;
            return this;
        }

        public Builder reusePort(boolean reusePort) {
            this.reusePort = reusePort;
            return this;
        }

        /** Seeds the toxicity choices, so the same connections get the faults on every run. */
        public Builder seed(long seed) {
            this.seed = OptionalLong.of(seed);
            return this;
        }

        /**
         * Serves the HTTP control API ({@code GET/PUT/DELETE /faults}, {@code GET /stats}) on this port of
         * the bind address (0 = any free port); -1, the default, turns it off. Needs Gson on the classpath.
         */
        public Builder controlPort(int controlPort) {
            this.controlPort = controlPort;
            return this;
        }

        /** The bearer token the control API requires; null = none (allowed on loopback only). */
        public Builder controlToken(String controlToken) {
            this.controlToken = Optional.ofNullable(controlToken);
            return this;
        }

        /**
         * Serves TLS too, on {@code tls.port()} of the bind address: by default with a throwaway CA and
         * certificate made at start, e.g. {@code tls(TlsConfig.defaults())}; null turns it off.
         */
        public Builder tls(TlsConfig tls) {
            this.tls = Optional.ofNullable(tls);
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(bindAddress, port, engine, maxConnections, idleTimeout, bufferSize,
                    drainTimeout, threads, udp, faults, metricsPort, logConnections, reusePort, seed,
                    controlPort, controlToken, tls);
        }

        /** Builds the configuration and starts a server on it; shorthand for {@code EchoServer.start(build())}. */
        public EchoServer start() throws IOException {
            return EchoServer.start(build());
        }
    }
}
