package dev.loomecho;

import dev.loomecho.engine.CompletionEngine;
import dev.loomecho.engine.Connections;
import dev.loomecho.engine.EchoEngine;
import dev.loomecho.engine.FutureEngine;
import dev.loomecho.engine.SelectorEngine;
import dev.loomecho.engine.ThreadPerConnectionEngine;
import dev.loomecho.tls.ServerTls;
import java.util.Arrays;
import java.util.Locale;

/**
 * The I/O models a server can run on. Which Winsock model each stands for is told once, in
 * {@code loom-echo models} and docs/MODELS.md.
 */
public enum Engine {
    VIRTUAL("one virtual thread per connection, blocking I/O, under a StructuredTaskScope where the JVM offers it",
            FaultSupport.ALL, true),
    PLATFORM("one platform (OS) thread per connection, blocking I/O: the seeds' model, the 'before' of virtual",
            FaultSupport.ALL, true),
    COMPLETION("AsynchronousChannelGroup (fixed pool) + CompletionHandler chains", FaultSupport.ALL_BUT_RESET, false),
    FUTURE("asynchronous channels + Future.get() on a virtual thread per connection", FaultSupport.ALL_BUT_RESET, false),
    SELECTOR("one thread, one java.nio Selector, non-blocking channels, interest ops", FaultSupport.NONE, true);

    private final String mechanism;
    private final FaultSupport faultSupport;
    private final boolean servesTls;

    Engine(String mechanism, FaultSupport faultSupport, boolean servesTls) {
        this.mechanism = mechanism;
        this.faultSupport = faultSupport;
        this.servesTls = servesTls;
    }

    /**
     * Whether the engine has a TLS listener ({@code --tls-port}): the blocking ones with an
     * {@code SSLSocket}, the selector with an {@code SSLEngine}.
     */
    public boolean servesTls() {
        return servesTls;
    }

    /** The engines that serve TLS, comma-separated, for messages. */
    public static String namesServingTls() {
        return String.join(", ", Arrays.stream(values()).filter(Engine::servesTls).map(Engine::cliName).toList());
    }

    /**
     * Which faults an engine can inject. Faults sleep, so they need a thread per connection (the
     * single-threaded selector has none); a reset needs SO_LINGER, which asynchronous channels lack.
     */
    public enum FaultSupport { NONE, ALL_BUT_RESET, ALL }

    public FaultSupport faultSupport() {
        return faultSupport;
    }

    /** The name used on the command line, e.g. {@code virtual}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String mechanism() {
        return mechanism;
    }

    /**
     * A switch, not a method reference per constant: an engine's class is loaded only when that engine
     * is started, so one engine's class failing to load can never break the others (or this enum).
     */
    EchoEngine create(ServerConfig config, Connections connections, ServerTls tls) {
        return switch (this) {
            case VIRTUAL -> ThreadPerConnectionEngine.onVirtualThreads(config, connections, tls);
            case PLATFORM -> ThreadPerConnectionEngine.onPlatformThreads(config, connections, tls);
            case COMPLETION -> new CompletionEngine(config, connections);
            case FUTURE -> new FutureEngine(config, connections);
            case SELECTOR -> new SelectorEngine(config, connections, tls);
        };
    }

    /** Parses a command-line name, case-insensitively; the message lists the valid names. */
    public static Engine fromCliName(String name) {
        for (Engine engine : values()) {
            if (engine.cliName().equalsIgnoreCase(name)) {
                return engine;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "', expected one of "
                + Arrays.stream(values()).map(Engine::cliName).toList());
    }
}
