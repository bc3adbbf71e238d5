package dev.loomecho;

import dev.loomecho.control.ControlEndpoint;
import dev.loomecho.engine.BufferTrimmer;
import dev.loomecho.engine.Connections;
import dev.loomecho.engine.EchoEngine;
import dev.loomecho.engine.IdleReaper;
import dev.loomecho.engine.Listeners;
import dev.loomecho.fault.Faults;
import dev.loomecho.metrics.HealthPages;
import dev.loomecho.metrics.MetricsEndpoint;
import dev.loomecho.tls.ServerTls;
import dev.loomecho.udp.UdpEcho;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running echo server. Start one with {@code EchoServer.builder().port(0).start()}; it is bound when
 * {@code start()} returns, so {@link #port()} is real at once. Close it (try-with-resources) and, when
 * {@link #close()} returns, no thread, socket or port of it is left.
 */
public final class EchoServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EchoServer.class);

    private final ServerConfig config;
    private final Connections connections;
    private final EchoEngine engine;
    private final IdleReaper idleReaper;
    private final BufferTrimmer bufferTrimmer;
    private final InetSocketAddress address;
    private final ServerTls tls;
    private final InetSocketAddress tlsAddress;
    private final UdpEcho udp;
    private final MetricsEndpoint metrics;
    private final ControlEndpoint control;
    private final AtomicBoolean closing = new AtomicBoolean();
    /** Set once every part has started and {@code beforeReady} has run: from then on {@code /ready} is 200. */
    private volatile boolean ready;
    private final CompletableFuture<Drain> closed = new CompletableFuture<>();

    /**
     * How a {@link #close()} went: {@code open} connections were open when the server stopped accepting;
     * {@code cutOff} of them were still open when the drain timeout passed (or an interrupt ended the
     * wait) and were closed; {@code took} is how long the whole close took.
     */
    public record Drain(int open, int cutOff, Duration took) {
        /** The connections that ended by themselves during the drain. */
        public int finished() {
            return open - cutOff;
        }
    }

    private EchoServer(ServerConfig config, BeforeReady beforeReady) throws IOException {
        this.config = config;
        this.connections = new Connections(config);
        // Keys and certificates first: made in memory, they hold nothing a failed start would have to release.
        this.tls = config.tls().map(ServerTls::create).orElse(null);
        this.engine = config.engine().create(config, connections, tls);
        // Settles (and logs, once per JVM) which supervisor runs, before any thread of the server starts.
        Supervision supervision = engine.supervision();
        log.debug("starting engine {} (supervision {})", config.engine().cliName(), supervision);
        // The probes' pages before the echo listener: a probe meets 503 "starting", never a refused connection.
        this.metrics = startMetrics();
        this.control = startOrClose(this::startControl, metrics);
        this.address = startOrClose(engine::start, control, metrics);
        this.tlsAddress = startOrCloseAll(engine::tlsAddress);
        this.udp = startOrCloseAll(this::startUdp);
        this.idleReaper = config.idleTimeout().isZero() ? null // no timeout
                : startOrCloseAll(() -> new IdleReaper(connections, config.idleTimeout()));
        this.bufferTrimmer = startOrCloseAll(() -> new BufferTrimmer(connections.buffers()));
        startOrCloseAll(() -> {
            beforeReady.run(this);
            return null;
        });
        ready = true;
        log.debug("listening on {}{}", Listeners.describe(address),
                tlsAddress == null ? "" : ", TLS on " + Listeners.describe(tlsAddress));
    }

    /** A builder holding every default; finish it with {@code start()}. */
    public static ServerConfig.Builder builder() {
        return ServerConfig.builder();
    }

    /**
     * Binds and starts serving. A port already in use raises a {@link java.net.BindException} whose
     * message names the address.
     */
    public static EchoServer start(ServerConfig config) throws IOException {
        return start(config, server -> { });
    }

    /**
     * Like {@link #start(ServerConfig)}, and runs {@code beforeReady} on the started server before
     * {@code /ready} answers 200: whatever a client told "ready" may count on (the CLI prints where it
     * listens and writes {@code --tls-ca-out} there). If it throws, the server is closed and the
     * exception passed on.
     */
    public static EchoServer start(ServerConfig config, BeforeReady beforeReady) throws IOException {
        return new EchoServer(config, beforeReady);
    }

    /** What {@link #start(ServerConfig, BeforeReady)} runs once the server serves, before it is ready. */
    @FunctionalInterface
    public interface BeforeReady {
        void run(EchoServer started) throws IOException;
    }

    /**
     * Starts one part after the engine; if that fails in any way, closes everything already running, so
     * a failed start leaves nothing bound and no thread behind.
     */
    private <T> T startOrCloseAll(Starter<T> starter) throws IOException {
        try {
            return starter.start();
        } catch (IOException | RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Starts one part before the engine; if that fails, closes the parts {@code started} so far. */
    private static <T> T startOrClose(Starter<T> starter, AutoCloseable... started) throws IOException {
        try {
            return starter.start();
        } catch (IOException | RuntimeException | Error e) {
            for (AutoCloseable part : started) {
                closeQuietly(part);
            }
            throw e;
        }
    }

    @FunctionalInterface
    private interface Starter<T> {
        T start() throws IOException;
    }

    private UdpEcho startUdp() throws IOException {
        return config.udp().enabled() ? UdpEcho.start(config.udpAddress(address.getPort()), config.udp(), config.reusePort()) : null;
    }

    private MetricsEndpoint startMetrics() throws IOException {
        return config.metricsPort() < 0 ? null : MetricsEndpoint.start(
                new InetSocketAddress(config.bindAddress(), config.metricsPort()), config.engine().cliName(), tls != null,
                this::stats, this::health);
    }

    /** Only here is {@link ControlEndpoint} loaded, so embedders without Gson never need it with the port off. */
    private ControlEndpoint startControl() throws IOException {
        return config.controlPort() < 0 ? null : ControlEndpoint.start(
                new InetSocketAddress(config.bindAddress(), config.controlPort()), config.controlToken(), this, this::health);
    }

    /** Where the control API ({@code /faults}, {@code /stats}) is served, when {@code controlPort} is set. */
    public Optional<InetSocketAddress> controlAddress() {
        return control == null ? Optional.empty() : Optional.of(control.address());
    }

    /** Where {@code /metrics} is served, when {@code metricsPort} is set. */
    public Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metrics).map(MetricsEndpoint::address);
    }

    /** The UDP echo's address, when {@code udp} is enabled. */
    public Optional<InetSocketAddress> udpAddress() {
        return Optional.ofNullable(udp).map(UdpEcho::address);
    }

    public int port() {
        return address.getPort();
    }

    /**
     * The TLS listener's port (real when the configured one was 0). Throws {@link IllegalStateException}
     * when the server has no TLS listener.
     */
    public int tlsPort() {
        return tlsAddress().getPort();
    }

    /** The TLS listener's address; throws {@link IllegalStateException} when there is none. */
    public InetSocketAddress tlsAddress() {
        requireTls();
        return tlsAddress;
    }

    /**
     * The TLS listener's keys and what a client needs to trust it: {@code tls().caCertificate()},
     * {@code tls().clientContext()}, {@code tls().trustManager()}, {@code tls().issueClientCertificate(name)}.
     * Throws {@link IllegalStateException} when the server has no TLS listener.
     */
    public ServerTls tls() {
        requireTls();
        return tls;
    }

    /** Whether the server has a TLS listener ({@code builder().tls(...)}, {@code --tls-port}). */
    public boolean hasTls() {
        return tls != null;
    }

    private void requireTls() {
        if (tls == null) {
            throw new IllegalStateException("this server has no TLS listener: start it with "
                    + "EchoServer.builder().tls(TlsConfig.defaults()) (or --tls-port)");
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    public ServerConfig config() {
        return config;
    }

    /**
     * What supervises this server's connection threads: a {@code StructuredTaskScope} on JDK 25 with
     * {@code --enable-preview}, a thread-per-task executor on any other JDK 21+, or nothing for the
     * engines without a thread per connection.
     */
    public Supervision supervision() {
        return engine.supervision();
    }

    /** The faults every toxic connection's echo goes through right now (every connection, at toxicity 1). */
    public Faults faults() {
        return connections.faults();
    }

    /**
     * Changes the injected faults on the running server, from each toxic connection's next echo on; pass
     * {@link Faults#NONE} to go back to a plain echo. Which connections are toxic was chosen when each was
     * accepted; the new {@link Faults#toxicity()} chooses for connections accepted from now on. Not
     * available on the selector engine.
     */
    public void faults(Faults faults) {
        ServerConfig.requireFaultsSupported(config.engine(), config.tls(), faults);
        connections.faults(faults);
    }

    /**
     * Whether the server accepts new connections: true from {@code start()} until {@link #close()}
     * begins, false while it drains and after. {@code /ready} on the metrics and control ports tells it
     * too, once the start is complete.
     */
    public boolean accepting() {
        return !closing.get();
    }

    /** What the probes' pages tell: starting until the constructor is done, then ready until close() begins. */
    private HealthPages.State health() {
        if (closing.get()) {
            return HealthPages.State.DRAINING;
        }
        return ready ? HealthPages.State.READY : HealthPages.State.STARTING;
    }

    public Stats stats() {
        return udp == null ? connections.snapshot(0, 0) : connections.snapshot(udp.echoed(), udp.dropped());
    }

    /**
     * Stops accepting (a connection that arrives from now on is closed at once), lets open connections
     * go on for up to the drain timeout, closes whatever is still open, and returns when every thread
     * of the server has ended: within the drain timeout and a moment. An interrupt ends only the drain
     * wait: the rest still runs to the end, and the thread's interrupt status is set again on return.
     * Idempotent; a concurrent second call waits for the first to finish.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            closed.join();
            return;
        }
        long started = System.nanoTime();
        boolean interrupted = false;
        int open = 0;
        int cutOff = 0;
        try {
            connections.stopAdmitting();
            engine.stopAccepting();
            open = connections.active();
            interrupted = drain();
            cutOff = Math.min(open, connections.active()); // none can join: admission has stopped
        } finally {
            try {
                connections.closeAll();
                interrupted |= awaitEngineTermination();
            } finally {
                closeQuietly(control);
                closeQuietly(metrics);
                closeQuietly(udp);
                closeQuietly(idleReaper);
                closeQuietly(bufferTrimmer);
                closeQuietly(connections.buffers()); // every connection has given its buffer back by now
                closed.complete(new Drain(open, cutOff, Duration.ofNanos(System.nanoTime() - started)));
                log.debug("{} closed", Listeners.describe(address));
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Lets open connections finish, for up to the drain timeout. Returns whether an interrupt ended the wait. */
    private boolean drain() {
        try {
            if (!connections.awaitEmpty(config.drainTimeout())) {
                log.debug("drain timeout ({}) passed with {} connections open; closing them",
                        config.drainTimeout(), connections.active());
            }
            return false;
        } catch (InterruptedException e) {
            return true;
        }
    }

    /**
     * Waits for the engine's threads even through interrupts, which would otherwise leave them running.
     * Bounded: every connection is closed by now, and the threads end promptly once theirs is.
     * Returns whether the thread was interrupted meanwhile.
     */
    private boolean awaitEngineTermination() {
        boolean interrupted = Thread.interrupted();
        while (true) {
            try {
                engine.awaitTermination();
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    private static void closeQuietly(AutoCloseable part) {
        if (part == null) {
            return; // not started (disabled, or the start failed before it)
        }
        try {
            part.close();
        } catch (Exception e) {
            log.warn("closing {} failed", part, e);
        }
    }

    /**
     * Blocks until the server has been closed (from another thread or a signal handler) and tells how
     * the drain went.
     */
    public Drain awaitClosed() throws InterruptedException {
        try {
            return closed.get();
        } catch (ExecutionException impossible) {
            throw new IllegalStateException(impossible); // closed is only ever completed normally
        }
    }

    @Override
    public String toString() {
        return "EchoServer[" + Listeners.describe(address) + (tlsAddress == null ? "" : ", TLS " + Listeners.describe(tlsAddress))
                + ", engine " + config.engine().cliName() + "]";
    }
}
