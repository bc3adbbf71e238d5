package dev.loomecho.cli;

import dev.loomecho.ServerConfig;
import dev.loomecho.load.LoadGenerator;
import dev.loomecho.load.LoadOptions;
import dev.loomecho.load.LoadResult;
import dev.loomecho.tls.ClientContexts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code loom-echo load}: drive any echo server and verify every byte. Exit 1 if any echo was wrong or missing. */
@Command(name = "load", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        showDefaultValues = true,
        description = {"Drive an echo server (ours or any other) with verified traffic and report "
                + "msgs/s, MiB/s and latency percentiles.",
            "A connection passes once every echoed byte was right and the server, after the client's "
                + "half-close, closed without sending anything more.",
            "Exit status: 0 all echoes verified, 1 a wrong, short or overlong echo, a timeout or a "
                + "connect error, 2 bad usage."})
final class Load implements Callable<Integer> {

    private static final long DEFAULT_MESSAGES = 1_000;

    @Spec
    CommandSpec spec;

    @Option(names = "--host", description = "Server host.")
    String host = "127.0.0.1";

    @Option(names = {"-p", "--port"}, description = "Server port.")
    int port = ServerConfig.DEFAULT_PORT;

    @Option(names = {"-c", "--connections"}, paramLabel = "C", description = "Connections open at once.")
    int connections = 10;

    @Option(names = {"-m", "--messages"}, paramLabel = "M",
            description = "Messages per connection. Default: " + DEFAULT_MESSAGES + " (unless --duration).")
    Long messages;

    @Option(names = {"-d", "--duration"}, paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Run this long instead of a message count, e.g. 10s.")
    Duration duration;

    @Option(names = {"-s", "--size"}, paramLabel = "BYTES", description = "Bytes per message.")
    int size = 64;

    @Option(names = "--pipeline", paramLabel = "P", description = "Messages written before reading their echoes.")
    int pipeline = 1;

    @Option(names = "--rate", paramLabel = "R",
            description = "Total messages/s, paced; latency then counts from each message's scheduled time. 0 = unpaced.")
    double rate = 0;

    @Option(names = "--hold", paramLabel = "DURATION", converter = DurationConverter.class, defaultValue = "0s",
            description = "Hold all connections open and silent this long before sending (idle test).")
    Duration hold;

    @Option(names = "--churn", description = "A new connection per message: connect, echo, close.")
    boolean churn;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class, defaultValue = "10s",
            description = "The longest a connection waits for the server (to connect, for an echo, for its "
                    + "close after the client's half-close) before it fails.")
    Duration timeout;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "Speak TLS, trusting the PEM certificates in FILE (e.g. what serve --tls-ca-out wrote); "
                    + "the chain is checked, the host name not. Thread driver only; each connect includes the handshake.")
    Path tlsCa;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--driver", paramLabel = "DRIVER", converter = DriverConverter.class,
            completionCandidates = DriverConverter.Names.class, defaultValue = "threads",
            description = "threads: a virtual thread per connection (paces with --rate, churns); selector: one "
                    + "thread and a Selector for all, the cheaper client for benchmarks. Valid: ${COMPLETION-CANDIDATES}.")
    LoadOptions.Driver driver;

    @Override
    public Integer call() throws Exception {
        if (messages != null && duration != null) {
            throw new ParameterException(spec.commandLine(), "--messages and --duration exclude each other: give one");
        }
        LoadOptions options;
        try {
            options = new LoadOptions(host, port, connections, messages == null ? DEFAULT_MESSAGES : messages, duration,
                    size, pipeline, rate, hold, churn, driver, timeout,
                    tlsCa == null ? Optional.empty() : Optional.of(ClientContexts.trusting(tlsCa)));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        LoadResult result = new LoadGenerator(options, System.err).run();
        spec.commandLine().getOut().print(json ? result.toJson() + System.lineSeparator() : result.toText());
        spec.commandLine().getOut().flush();
        return result.ok() ? 0 : 1;
    }

    /** {@code --driver selector}: drivers go by their lower-case names on the command line. */
    static final class DriverConverter implements picocli.CommandLine.ITypeConverter<LoadOptions.Driver> {
        @Override
        public LoadOptions.Driver convert(String value) {
            try {
                return LoadOptions.Driver.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "'" + value + "' is not a driver (threads, selector)");
            }
        }

        static final class Names implements Iterable<String> {
            @Override
            public Iterator<String> iterator() {
                return Arrays.stream(LoadOptions.Driver.values()).map(d -> d.name().toLowerCase(Locale.ROOT)).iterator();
            }
        }
    }
}
