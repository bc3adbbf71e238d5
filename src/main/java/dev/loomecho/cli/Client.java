package dev.loomecho.cli;

import dev.loomecho.ServerConfig;
import dev.loomecho.client.LineClient;
import dev.loomecho.client.StreamingClient;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code loom-echo client}: talk to an echo server by hand, or pipe a file through it and get it back. */
@Command(name = "client", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        showDefaultValues = true,
        description = {"Send to an echo server and check what comes back.",
            "On a terminal: each line typed is sent, and its echo printed with the round-trip time.",
            "With stdin piped: stdin is streamed to the server and the echo to stdout, byte for byte; "
                + "at the end of stdin the client half-closes and waits for the rest of the echo.",
            "Exit status: 0 everything came back unchanged, 1 a wrong or short echo, a timeout or a "
                + "broken connection, 2 bad usage."})
final class Client implements Callable<Integer> {

    @Option(names = "--host", description = "Server host.")
    String host = "127.0.0.1";

    @Option(names = {"-p", "--port"}, description = "Server port.")
    int port = ServerConfig.DEFAULT_PORT;

    @Option(names = "--udp", description = "Send each line as one UDP datagram and wait for its reply.")
    boolean udp;

    @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long to wait for a line's echo (and to connect).")
    Duration timeout = Duration.ofSeconds(5);

    /** The process's streams; tests put their own here. */
    InputStream in = System.in;
    PrintStream out = System.out;
    PrintStream err = System.err;
    boolean terminal = Terminal.isInteractive();

    @Override
    public Integer call() throws Exception {
        InetSocketAddress server = new InetSocketAddress(host, port);
        if (!udp && !terminal) {
            return new StreamingClient(server, err).run(in, out);
        }
        Charset charset = Charset.defaultCharset();
        try (LineClient client = udp ? LineClient.udp(server, timeout, charset) : LineClient.tcp(server, timeout, charset)) {
            if (terminal) {
                err.printf("connected to %s:%d%s; type a line, Ctrl-D to end%n", host, port, udp ? " (UDP)" : "");
            }
            return client.run(new BufferedReader(new InputStreamReader(in, charset)), out, err, terminal);
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
