package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.client.RoundTripClient;
import dev.loomecho.load.Failure;
import dev.loomecho.load.LoadGenerator;
import dev.loomecho.load.LoadOptions;
import dev.loomecho.load.LoadResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The verifiers against a server that accepts and then reads nothing, where sockets get a small send
 * buffer (a network namespace with {@code tcp_wmem} at 4 KiB): a socket timeout bounds reads only, so a
 * message written by the thread that then waits for its echo must fit in the client's own send
 * buffer, or that write waits for ever. Each verifier must fail at its timeout instead. On the host's
 * loopback the kernel grows the send buffer to megabytes, so this needs a namespace of its own; it
 * skips, saying why, where namespaces are not available.
 */
@Timeout(120)
class SmallSendBufferNamespaceTest {

    private static final List<String> SMALL_SEND_BUFFERS = List.of(
            "ip link set lo up", "echo '4096 4096 4096' > /proc/sys/net/ipv4/tcp_wmem");

    @Test
    void loadFailsAtItsTimeoutWhenTheServerReadsNothing() throws Exception {
        assumeTrue(NetworkNamespace.unavailableBecause() == null, NetworkNamespace::unavailableBecause);
        NetworkNamespace.Run run = NetworkNamespace.run(SMALL_SEND_BUFFERS, Scenarios.class, "load");
        assertEquals(0, run.exitCode(), run.output());
        assertEquals("ended", run.result("load"), "a 64 KiB message's write waited for ever:\n" + run.output());
        assertEquals(1, run.number("failures"), run.output());
        assertEquals(1, run.number("timeouts"), run.output());
    }

    @Test
    void theClientFailsAtItsTimeoutWhenTheServerReadsNothing() throws Exception {
        assumeTrue(NetworkNamespace.unavailableBecause() == null, NetworkNamespace::unavailableBecause);
        NetworkNamespace.Run run = NetworkNamespace.run(SMALL_SEND_BUFFERS, Scenarios.class, "client");
        assertEquals(0, run.exitCode(), run.output());
        assertEquals("ended", run.result("client"), "a 60,000-byte line's write waited for ever:\n" + run.output());
        assertEquals(1, run.number("exit"), run.output());
        assertTrue(run.output().contains("no echo of"), run.output());
    }

    /** What runs inside the namespace; prints {@code RESULT key=value} lines for the test to check. */
    public static final class Scenarios {

        public static void main(String[] args) throws Exception {
            // Accepts, then reads nothing, with a receive buffer too small to take a 64 KiB message either.
            try (ServerSocket silent = new ServerSocket()) {
                silent.setReceiveBufferSize(2048);
                silent.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            @SuppressWarnings({"resource", "unused"}) // held open, unread, until the process exits
                            Socket unread = silent.accept();
                        }
                    } catch (java.io.IOException e) {
                        // closed
                    }
                });
                int port = silent.getLocalPort();
                switch (args[0]) {
                    case "load" -> load(port);
                    case "client" -> client(port);
                    default -> throw new IllegalArgumentException(args[0]);
                }
            }
            System.exit(0); // a write still blocked must not keep the child alive
        }

        private static void load(int port) throws Exception {
            LoadOptions oneMessage = new LoadOptions("127.0.0.1", port, 1, 1, null, 65_536, 1, 0, Duration.ZERO, false,
                    LoadOptions.Driver.THREADS, Duration.ofSeconds(1));
            LoadResult result = within(() -> LoadGenerator.run(oneMessage), "load");
            if (result != null) {
                System.out.println("RESULT failures=" + result.failures());
                System.out.println("RESULT timeouts=" + result.failureCauses().getOrDefault(Failure.TIMEOUT, 0L));
            }
        }

        private static void client(int port) throws Exception {
            byte[] line = new byte[60_001];
            Arrays.fill(line, (byte) 'x');
            line[line.length - 1] = '\n';
            ByteArrayOutputStream problems = new ByteArrayOutputStream();
            Integer exit = within(() -> {
                try (RoundTripClient client = RoundTripClient.tcp(new InetSocketAddress("127.0.0.1", port),
                        Duration.ofSeconds(1))) {
                    return client.run(new ByteArrayInputStream(line), new PrintStream(new ByteArrayOutputStream()),
                            new PrintStream(problems, true, StandardCharsets.UTF_8), true);
                }
            }, "client");
            System.out.print(problems.toString(StandardCharsets.UTF_8));
            if (exit != null) {
                System.out.println("RESULT exit=" + exit);
            }
        }

        /** Runs {@code task} for at most 20 s; prints {@code RESULT name=ended} or {@code =hung}. */
        private static <T> T within(Callable<T> task, String name) throws Exception {
            CompletableFuture<T> outcome = new CompletableFuture<>();
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    outcome.complete(task.call());
                } catch (Throwable t) {
                    outcome.completeExceptionally(t);
                }
            });
            try {
                T value = outcome.get(20, TimeUnit.SECONDS);
                System.out.println("RESULT " + name + "=ended");
                return value;
            } catch (TimeoutException e) {
                System.out.println("RESULT " + name + "=hung");
                return null;
            }
        }
    }
}
