package dev.loomecho.cli;

import dev.loomecho.ServerConfig;
import dev.loomecho.client.RoundTripClient;
import dev.loomecho.client.StreamingClient;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code loom-echo client}: talk to an echo server by hand, or pipe a file through it and get it back. */
@Command(name = "client", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        showDefaultValues = true,
        description = {"Send to an echo server and check what comes back, byte for byte (nothing is decoded).",
            "On a terminal: each line typed is sent, and its echo printed with the round-trip time.",
            "With stdin piped: stdin is streamed to the server and the echo to stdout; at the end of stdin "
                + "the client half-closes and waits for the rest of the echo and the server's close.",
            "With --udp: a datagram per typed line (without its newline), or per read of up to --size "
                + "bytes of piped stdin, the replies written to stdout as they are.",
            "Exit status: 0 everything came back unchanged, 1 a wrong, short or overlong echo, a "
                + "timeout or a broken connection, 2 bad usage."})
final class Client implements Callable<Integer> {

    /** The most a UDP datagram carries over IPv4: 65,535 minus the IP and UDP headers. */
    private static final int MAX_DATAGRAM = 65_507;

    @Spec
    CommandSpec spec;

    @Option(names = "--host", description = "Server host.")
    String host = "127.0.0.1";

    @Option(names = {"-p", "--port"}, description = "Server port.")
    int port = ServerConfig.DEFAULT_PORT;

    @Option(names = "--udp", description = "Send datagrams and wait for each reply.")
    boolean udp;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "1472",
            description = "With --udp, the largest datagram: piped stdin goes out in reads of up to this many "
                    + "bytes, a longer typed line in several datagrams (1472 fits one Ethernet frame over IPv4).")
    int size;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class, defaultValue = "5s",
            description = "The longest wait to connect, and for anything the server owes: an echo, or its "
                    + "close after the end of the input.")
    Duration timeout;

    /** The process's streams; tests put their own here. */
    InputStream in = System.in;
    PrintStream out = System.out;
    PrintStream err = System.err;
    boolean terminal = Terminal.isInteractive();

    @Override
    public Integer call() throws Exception {
        if (size < 1 || size > MAX_DATAGRAM) {
            throw new ParameterException(spec.commandLine(), "--size must be 1.." + MAX_DATAGRAM + " bytes, was " + size);
        }
        InetSocketAddress server = new InetSocketAddress(host, port);
        if (!udp && !terminal) {
            return new StreamingClient(server, timeout, err).run(in, out);
        }
        try (RoundTripClient client = udp ? RoundTripClient.udp(server, timeout, size) : RoundTripClient.tcp(server, timeout)) {
            if (terminal) {
                err.printf("connected to %s:%d%s; type a line, Ctrl-D to end%n", host, port, udp ? " (UDP)" : "");
            }
            return client.run(in, out, err, terminal);
        } catch (IOException e) {
            err.println("loom-echo client: " + host + ":" + port + ": " + e.getMessage());
            return 1;
        }
    }

    /** Whether a person is typing: stdin and stdout are a terminal. */
    static final class Terminal {
        private Terminal() {
        }

        static boolean isInteractive() {
            Console console = System.console();
            if (console == null) {
                return false;
            }
            try {
                // Java 22+ returns a Console for redirected streams too and tells them apart with isTerminal().
                return (boolean) Console.class.getMethod("isTerminal").invoke(console);
            } catch (NoSuchMethodException java21) {
                return true; // before 22, console() is non-null only on a terminal
            } catch (ReflectiveOperationException e) {
                return false;
            }
        }
    }
}
