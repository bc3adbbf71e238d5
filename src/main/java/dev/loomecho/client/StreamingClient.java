package dev.loomecho.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code loom-echo client} with stdin piped: streams the input to the server and the echo to the output,
 * byte for byte, checking every echoed byte against what was sent. At the end of the input it
 * half-closes, so the server knows it has everything, and succeeds once every byte came back and then
 * the server closed, with nothing more. Whenever the server owes it something (echoed bytes, or that
 * close) and sends nothing for the whole timeout, it gives up.
 *
 * <p>Reading and writing run on two threads, as the seeds' blocking client could not: a sender that
 * waited for each echo would deadlock against an echo server that (rightly) stops reading while its
 * echo is not read.
 */
public final class StreamingClient {

    /** Unechoed bytes allowed in flight; the sender waits beyond that. Larger than any socket buffer pair. */
    private static final int WINDOW = 8 << 20;

    private final InetSocketAddress server;
    private final Duration timeout;
    private final PrintStream messages;

    /** {@code timeout}: the longest wait to connect, and for anything the server owes; {@code messages}: where failures are described (stderr). */
    public StreamingClient(InetSocketAddress server, Duration timeout, PrintStream messages) {
        this.server = server;
        this.timeout = timeout;
        this.messages = messages;
    }

    /** Returns the exit status: 0 if everything came back unchanged, 1 otherwise (and says why). */
    public int run(InputStream input, OutputStream echoOut) throws InterruptedException {
        SentBytes sent = new SentBytes(WINDOW);
        AtomicReference<IOException> sendFailure = new AtomicReference<>();
        Thread sender = null;
        try (Socket socket = new Socket()) {
            try {
                socket.connect(server, Timeouts.millis(timeout));
            } catch (IOException e) {
                messages.println("loom-echo client: cannot connect to " + describe() + ": " + e.getMessage());
                return 1;
            }
            socket.setSoTimeout(Timeouts.millis(timeout));
            sender = Thread.ofVirtual().name("loom-echo-client-send").start(() -> {
                try {
                    send(input, socket, sent);
                } catch (IOException e) {
                    sendFailure.set(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            String problem = receive(socket, echoOut, sent);
            if (problem == null && !sent.ended()) {
                problem = "the server closed the connection before the input ended, after "
                        + sent.echoed() + " bytes echoed";
            }
            if (problem == null) {
                // It has written everything; only its half-close may still be returning.
                if (!sender.join(timeout) || sendFailure.get() != null) {
                    problem = "sending failed after " + sent.sent() + " bytes"
                            + (sendFailure.get() == null ? "" : ": " + sendFailure.get().getMessage());
                }
            }
            if (problem != null) {
                messages.println("loom-echo client: " + problem);
                return 1;
            }
            return 0;
        } catch (IOException e) {
            messages.println("loom-echo client: connection to " + describe() + " broken after " + sent.echoed() + " bytes echoed: " + e.getMessage());
            return 1;
        } finally {
            if (sender != null) {
                // On a failure it may still wait for input that never ends, or for room in the window.
                sender.interrupt();
            }
        }
    }

    private String describe() {
        return server.getHostString() + ":" + server.getPort();
    }

    private static void send(InputStream input, Socket socket, SentBytes sent) throws IOException, InterruptedException {
        OutputStream out = socket.getOutputStream();
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = input.read(buffer)) >= 0) {
            sent.add(buffer, 0, n); // before the write: the echo may arrive before write() returns
            out.write(buffer, 0, n);
        }
        sent.end(); // before the FIN leaves: the server's closing reply cannot overtake this
        socket.shutdownOutput(); // half-close: "that was all", and the server closes once it has echoed it
    }

    /**
     * Copies the echo to {@code echoOut} until the server closes; returns what went wrong, or null. A
     * read that times out is retried while the server owes nothing (the input is slow, not the server).
     */
    private String receive(Socket socket, OutputStream echoOut, SentBytes sent) throws IOException {
        InputStream in = socket.getInputStream();
        long timeoutNanos = timeout.toNanos();
        byte[] buffer = new byte[64 * 1024];
        try {
            while (true) {
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException e) {
                    long owedFor = sent.owedForNanos(System.nanoTime());
                    if (owedFor >= timeoutNanos) {
                        return timedOut(sent);
                    }
                    socket.setSoTimeout(Timeouts.millis(Duration.ofNanos(owedFor < 0 ? timeoutNanos : timeoutNanos - owedFor)));
                    continue;
                }
                if (n < 0) {
                    break;
                }
                SentBytes.Mismatch wrong = sent.match(buffer, 0, n);
                if (wrong != null) {
                    return wrong.neverSent()
                            ? "the server sent bytes that were never sent to it, from byte " + wrong.offset() + " on"
                            : "wrong echo: byte " + wrong.offset() + " differs from what was sent";
                }
                echoOut.write(buffer, 0, n);
            }
        } finally {
            echoOut.flush();
        }
        return sent.echoed() == sent.sent() ? null
                : "short echo: the server closed after " + sent.echoed() + " of " + sent.sent() + " bytes";
    }

    private String timedOut(SentBytes sent) {
        long echoed = sent.echoed();
        long total = sent.sent();
        return echoed < total
                ? "no echo within " + Timeouts.describe(timeout) + ": " + echoed + " of " + total + " bytes came back"
                : "all " + total + " bytes came back, but the server did not close within "
                        + Timeouts.describe(timeout) + " of the end of the input";
    }
}
