package dev.loomecho.junit;

import dev.loomecho.EchoServer;
import dev.loomecho.ServerConfig;
import dev.loomecho.Stats;
import dev.loomecho.fault.Faults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * An echo server for JUnit 5 tests, in the style of WireMock's {@code WireMockExtension}.
 *
 * <ul>
 *   <li>{@code @ExtendWith(EchoServerExtension.class)} on a class: one default server (port 0) for the
 *       class, injected into test methods as an {@link EchoServer} parameter.</li>
 *   <li>{@code @RegisterExtension static EchoServerExtension echo = EchoServerExtension.builder()...build();}:
 *       one configured server for the whole class.</li>
 *   <li>{@code @RegisterExtension EchoServerExtension echo = ...} (an instance field): one per test method.</li>
 * </ul>
 * A {@code @Nested} class shares the server of the class that declares the extension. A shared server
 * gets its configured faults back once no test of it is running, so one test's faults never leak into
 * the next — and, under JUnit's concurrent execution, never are reset under a sibling still running.
 * Servers use an ephemeral port, so parallel tests never collide, and are closed after the test or class
 * whether it passed or failed.
 */
public final class EchoServerExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

    private final ServerConfig config;
    /** Guarded by {@code this}; volatile for the accessors tests call. */
    private volatile EchoServer server;
    /** The unique id of the class or test whose callback started the server, and alone closes it. */
    private String owner;
    /** Tests of a shared server running right now. */
    private int running;

    /** For {@code @ExtendWith}: the fixture defaults (see {@link #fixtureDefaults()}). */
    public EchoServerExtension() {
        this(fixtureDefaults().build());
    }

    /**
     * The server defaults, except two that suit a test fixture: port 0 (parallel tests never collide)
     * and no drain on close (a test's leftover client connections must not delay the next test).
     */
    static ServerConfig.Builder fixtureDefaults() {
        return ServerConfig.builder().port(0).drainTimeout(java.time.Duration.ZERO);
    }

    private EchoServerExtension(ServerConfig config) {
        this.config = config;
    }

    /** The same settings as {@link EchoServer#builder()}, starting from {@link #fixtureDefaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A static field's extension (or a class-level {@code @ExtendWith}) starts one server for the class.
     * JUnit calls this again for each {@code @Nested} class, with the same extension: they share it.
     */
    @Override
    public synchronized void beforeAll(ExtensionContext context) {
        if (server == null) {
            server = start();
            owner = context.getUniqueId();
        }
    }

    /** An instance field's extension gets no beforeAll: it starts a server for each test. */
    @Override
    public synchronized void beforeEach(ExtensionContext context) {
        if (server == null) {
            server = start();
            owner = context.getUniqueId();
        }
        running++;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        synchronized (this) {
            running--;
            if (server == null) {
                return; // its start failed
            }
            if (!context.getUniqueId().equals(owner)) {
                if (running == 0) {
                    server.faults(config.faults()); // a test's faults must not leak into the next test
                }
                return;
            }
        }
        stop();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        synchronized (this) {
            if (!context.getUniqueId().equals(owner)) {
                return; // a @Nested class ends; the server belongs to its enclosing class
            }
        }
        stop();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EchoServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return server();
    }

    /** The running server; available from {@code @BeforeEach} on. */
    public EchoServer server() {
        if (server == null) {
            throw new IllegalStateException("the echo server runs only while a test of its class runs");
        }
        return server;
    }

    public int port() {
        return server().port();
    }

    public InetSocketAddress address() {
        return server().address();
    }

    public Stats stats() {
        return server().stats();
    }

    /** Changes the injected faults for the rest of the current test. */
    public void faults(Faults faults) {
        server().faults(faults);
    }

    private EchoServer start() {
        try {
            return EchoServer.start(config);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the echo server for the test", e);
        }
    }

    private void stop() {
        EchoServer stopping;
        synchronized (this) {
            stopping = server;
            server = null;
            owner = null;
        }
        if (stopping != null) {
            stopping.close();
        }
    }

    /** Builds an extension; wraps {@link ServerConfig.Builder}, so every server setting is available. */
    public static final class Builder {
        private final ServerConfig.Builder config = fixtureDefaults();

        private Builder() {
        }

        /** Full access to the server settings: {@code builder().configure(c -> c.engine(Engine.SELECTOR))}. */
        public Builder configure(java.util.function.Consumer<ServerConfig.Builder> settings) {
            settings.accept(config);
            return this;
        }

        public Builder faults(Faults faults) {
            config.faults(faults);
            return this;
        }

        public Builder engine(dev.loomecho.Engine engine) {
            config.engine(engine);
            return this;
        }

        /** Seeds the per-connection choice of {@link Faults#toxicity()}, so the same connections get the faults each run. */
        public Builder seed(long seed) {
            config.seed(seed);
            return this;
        }

        public EchoServerExtension build() {
            return new EchoServerExtension(config.build());
        }
    }
}
