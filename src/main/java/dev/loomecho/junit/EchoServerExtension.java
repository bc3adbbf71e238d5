package dev.loomecho.junit;

import dev.loomecho.EchoServer;
import dev.loomecho.ServerConfig;
import dev.loomecho.Stats;
import dev.loomecho.fault.Faults;
import dev.loomecho.tls.ServerTls;
import dev.loomecho.tls.TlsConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
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
 *
 * <p>One extension object has at most one server at a time, and every class and test that uses that
 * object while it runs shares it: the classes that register it (a {@code @Nested} class, and each
 * subclass of a base class that declares it) from their {@code beforeAll} to their {@code afterAll}, and
 * each test from its {@code beforeEach} to its {@code afterEach}. The first of them starts the server;
 * it is closed when the last of them is done — so a class ending never closes it under another class
 * still running, and a class that runs later, alone, gets a fresh one. Each hold is kept in the store of
 * the JUnit context that took it, so cleanup releases exactly what was set up: a test whose
 * {@code beforeEach} never ran (an earlier extension failed or aborted it) releases nothing. Faults a
 * test sets are reset to the configured ones once no test of the server is running, so one test's
 * faults never leak into the next, nor are reset under a sibling running concurrently. Servers use an
 * ephemeral port, so parallel tests never collide, and close whether the tests passed or failed.
 *
 * <p>With {@code builder().tls()} the server has a TLS listener too, with a CA made at start, and test
 * methods may also take what a TLS client needs: an {@link SSLContext} that trusts that CA, its
 * {@link X509TrustManager}, the CA's {@link X509Certificate}, or the {@link ServerTls} itself.
 */
public final class EchoServerExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

    private static final Namespace NAMESPACE = Namespace.create(EchoServerExtension.class);

    private final SharedServer shared;

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
        this.shared = new SharedServer(config);
    }

    /** The same settings as {@link EchoServer#builder()}, starting from {@link #fixtureDefaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A class that registers this extension (or a {@code @Nested} class inside one) holds the server while it runs. */
    @Override
    public void beforeAll(ExtensionContext context) {
        hold(context, false);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        release(context);
    }

    /** A test holds the server while it runs; for an instance field's extension, which gets no beforeAll, it is the only holder. */
    @Override
    public void beforeEach(ExtensionContext context) {
        hold(context, true);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        release(context);
    }

    private void hold(ExtensionContext context, boolean test) {
        context.getStore(NAMESPACE).put(this, shared.acquire(test)); // a failed start stores nothing
    }

    /** Releases the hold this very context took, if it took one (the store's remove never looks at parents). */
    private void release(ExtensionContext context) {
        Hold hold = context.getStore(NAMESPACE).remove(this, Hold.class);
        if (hold != null) {
            hold.close();
        }
    }

    /** What a TLS client needs, injectable when the server has a TLS listener. */
    private static final Set<Class<?>> TLS_PARAMETERS =
            Set.of(ServerTls.class, SSLContext.class, X509TrustManager.class, X509Certificate.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == EchoServer.class || TLS_PARAMETERS.contains(type);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        if (type == EchoServer.class) {
            return server();
        }
        if (!server().hasTls()) {
            throw new ParameterResolutionException("a " + type.getSimpleName() + " parameter needs the server's TLS "
                    + "listener: EchoServerExtension.builder().tls().build()");
        }
        ServerTls tls = server().tls();
        if (type == SSLContext.class) {
            return tls.clientContext();
        }
        if (type == X509TrustManager.class) {
            return tls.trustManager();
        }
        return type == X509Certificate.class ? tls.caCertificate() : tls;
    }

    /** The running server; available from {@code @BeforeEach} on (from {@code @BeforeAll} on for a static field). */
    public EchoServer server() {
        return shared.current();
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

    /** The TLS listener's port; the server must have one ({@code builder().tls()}). */
    public int tlsPort() {
        return server().tlsPort();
    }

    /** The TLS listener's CA, client context and trust manager; see {@link EchoServer#tls()}. */
    public ServerTls tls() {
        return server().tls();
    }

    /** Changes the injected faults for the rest of the current test. */
    public void faults(Faults faults) {
        server().faults(faults);
    }

    /** The extension's one server: started by its first holder, closed when its last holder is done. */
    private static final class SharedServer {
        private final ServerConfig config;
        /** Guarded by {@code this}, as are the counts. */
        private EchoServer server;
        /** Classes and tests holding the server now. */
        private int holders;
        /** The tests among them. */
        private int tests;

        SharedServer(ServerConfig config) {
            this.config = config;
        }

        synchronized EchoServer current() {
            if (server == null) {
                throw new IllegalStateException("the echo server runs only while a test of its class runs");
            }
            return server;
        }

        /** Starts the server if nobody holds it; a holder arriving meanwhile waits, and shares it. */
        synchronized Hold acquire(boolean test) {
            if (server == null) {
                try {
                    server = EchoServer.start(config);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not start the echo server for the test", e);
                }
            }
            holders++;
            if (test) {
                tests++;
            }
            return new Hold(this, test);
        }

        /**
         * The last test out restores the configured faults; the last holder out closes the server —
         * under the lock, so a holder arriving meanwhile starts the next server only after (a fixed
         * port is free again then).
         */
        synchronized void release(boolean test) {
            if (test && --tests == 0) {
                server.faults(config.faults()); // a test's faults must not leak into the next test
            }
            if (--holders == 0) {
                server.close();
                server = null;
            }
        }
    }

    /**
     * One class's or test's hold on the server, kept in that context's store. The extension releases it
     * in afterAll or afterEach; should those not run, JUnit closes it with the context. Both interfaces,
     * so JUnit 5 before 5.13 (which closes only a {@code CloseableResource}) and later versions (which
     * close an {@code AutoCloseable}, once) release it alike.
     */
    @SuppressWarnings("deprecation") // CloseableResource: deprecated since JUnit 5.13, the only one older versions close
    private static final class Hold implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private final SharedServer shared;
        private final boolean test;
        private final AtomicBoolean released = new AtomicBoolean();

        Hold(SharedServer shared, boolean test) {
            this.shared = shared;
            this.test = test;
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                shared.release(test);
            }
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

        /** A TLS listener too, with a CA and certificate made at start: {@link TlsConfig#defaults()}. */
        public Builder tls() {
            return tls(TlsConfig.defaults());
        }

        /** A TLS listener configured as given (client authentication, protocols, ALPN, your own key). */
        public Builder tls(TlsConfig tls) {
            config.tls(tls);
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
