package dev.loomecho.cli;

import dev.loomecho.ServerConfig;
import dev.loomecho.load.LoadGenerator;
import dev.loomecho.load.LoadOptions;
import dev.loomecho.load.LoadResult;
import java.time.Duration;
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
            "Exit status: 0 all echoes verified, 1 a wrong/short echo or a connect error, 2 bad usage."})
final class Load implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--host", description = "Server host.")
    String host = "127.0.0.1";

    @Option(names = {"-p", "--port"}, description = "Server port.")
    int port = ServerConfig.DEFAULT_PORT;

    @Option(names = {"-c", "--connections"}, paramLabel = "C", description = "Connections open at once.")
    int connections = 10;

    @Option(names = {"-m", "--messages"}, paramLabel = "M", description = "Messages per connection (unless --duration).")
    long messages = 1_000;

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

    @Option(names = "--hold", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Hold all connections open and silent this long before sending (idle test).")
    Duration hold = Duration.ZERO;

    @Option(names = "--churn", description = "A new connection per message: connect, echo, close.")
    boolean churn;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @Option(names = "--driver", paramLabel = "DRIVER",
            description = "threads: a virtual thread per connection (paces with --rate, churns); selector: one "
                    + "thread and a Selector for all, the cheaper client for benchmarks. Valid: ${COMPLETION-CANDIDATES}.")
    LoadOptions.Driver driver = LoadOptions.Driver.THREADS;

    @Override
    public Integer call() throws Exception {
        LoadOptions options;
        try {
            options = new LoadOptions(host, port, connections, messages, duration, size, pipeline, rate, hold, churn, driver);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        LoadResult result = new LoadGenerator(options, System.err).run();
        spec.commandLine().getOut().print(json ? result.toJson() + System.lineSeparator() : result.toText());
        spec.commandLine().getOut().flush();
        return result.ok() ? 0 : 1;
    }
}
