package dev.loomecho.client;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * The seeds' client, done right: one message at a time, its echo awaited and compared byte for byte.
 * On a terminal a message is a typed line — over TCP the line and its newline, the echo read until all
 * of it is back however the network splits it; over UDP the line without its newline as one datagram —
 * and each echo is printed with its round-trip time. With stdin piped, over UDP, each read of up to
 * {@code size} bytes is one datagram and the replies go to the output as they are, so a file comes
 * back as it was. Bytes are never decoded: what is typed or piped is what is sent.
 */
public final class RoundTripClient implements Closeable {

    /**
     * The largest TCP message, if half the socket's send buffer is as large: a longer line is sent in
     * pieces. A piece fits in that buffer, so its write returns even when the server reads nothing (a
     * socket timeout bounds reads only), and the wait for its echo then times out.
     */
    private static final int MAX_TCP_LINE = 64 * 1024;

    /** One message's round trip over some transport. */
    private interface Exchange extends Closeable {
        /** Sends {@code message}; returns the reply, or fewer bytes if the peer closed first. */
        byte[] roundTrip(byte[] message) throws IOException;

        /** Called at the end of the input; returns what went wrong, or null. */
        String finish() throws IOException;
    }

    private final Exchange exchange;
    private final boolean udp;
    private final int size;
    private final Duration timeout;

    private RoundTripClient(Exchange exchange, boolean udp, int size, Duration timeout) {
        this.exchange = exchange;
        this.udp = udp;
        this.size = size;
        this.timeout = timeout;
    }

    /** Connects over TCP; each wait for the server lasts at most {@code timeout}. */
    public static RoundTripClient tcp(InetSocketAddress server, Duration timeout) throws IOException {
        Socket socket = new Socket();
        int piece;
        try {
            socket.connect(server, Timeouts.millis(timeout));
            socket.setSoTimeout(Timeouts.millis(timeout));
            socket.setTcpNoDelay(true); // one small message at a time: do not wait to coalesce
            // Half: the kernel counts its bookkeeping against the buffer too (Linux doubles SO_SNDBUF for it).
            piece = Math.clamp(socket.getSendBufferSize() / 2 - 1, 1, MAX_TCP_LINE); // - 1: room for the newline
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new RoundTripClient(new TcpExchange(socket), false, piece, timeout);
    }

    /** Sends datagrams of at most {@code size} bytes to {@code server}; each reply is awaited at most {@code timeout}. */
    public static RoundTripClient udp(InetSocketAddress server, Duration timeout, int size) throws IOException {
        DatagramSocket socket = new DatagramSocket();
        return new RoundTripClient(new UdpExchange(socket, server, timeout), true, size, timeout);
    }

    /**
     * Sends {@code input} a message at a time and checks each echo: lines with their round-trip times
     * on a {@code terminal}, else (UDP only) reads of up to {@code size} bytes, echoed to {@code out} as
     * they are. Returns 0 if every echo came back unchanged, 1 otherwise (what went wrong goes to
     * {@code problems}).
     */
    public int run(InputStream input, PrintStream out, PrintStream problems, boolean terminal) throws IOException {
        if (!terminal && !udp) {
            throw new IllegalArgumentException("piped TCP input is streamed: use StreamingClient");
        }
        Messages messages = terminal ? new Lines(input, size, !udp) : new Chunks(input, size);
        int failures = 0;
        byte[] message;
        for (long number = 1; (message = messages.next()) != null; number++) {
            String name = terminal ? "\"" + Printable.of(message) + "\"" : "datagram " + number + " (" + message.length + " bytes)";
            long started = System.nanoTime();
            byte[] reply;
            try {
                reply = exchange.roundTrip(message);
            } catch (SocketTimeoutException e) {
                problems.println("loom-echo client: no echo of " + name + " within " + Timeouts.describe(timeout)
                        + (udp ? " (lost, or dropped by the server's reflection guard or rate limit)" : ""));
                if (!udp) {
                    return 1; // a late TCP echo would be taken for the next line's: stop here
                }
                failures++;
                continue;
            }
            double millis = (System.nanoTime() - started) / 1e6;
            int wrongAt = Arrays.mismatch(message, reply);
            if (wrongAt >= 0) {
                problems.println("loom-echo client: " + (reply.length < message.length && !udp
                        ? "the server closed after echoing " + reply.length + " of " + message.length + " bytes"
                        : "wrong echo of " + name + ": " + (wrongAt < Math.min(message.length, reply.length)
                                ? "byte " + wrongAt + " differs"
                                : reply.length + " bytes came back") + " (got \"" + Printable.of(reply) + "\")"));
                return 1;
            }
            if (terminal) {
                int shown = !udp && reply.length > 0 && reply[reply.length - 1] == '\n' ? reply.length - 1 : reply.length;
                out.write(reply, 0, shown);
                out.printf(Locale.ROOT, "  [echo in %.3f ms]%n", millis);
            } else {
                out.write(reply);
            }
        }
        out.flush();
        String problem = exchange.finish();
        if (problem != null) {
            problems.println("loom-echo client: " + problem);
            return 1;
        }
        return failures == 0 ? 0 : 1;
    }

    @Override
    public void close() throws IOException {
        exchange.close();
    }

    /** The input cut into messages. */
    private interface Messages {
        /** The next message, or null at the end of the input. */
        byte[] next() throws IOException;
    }

    /** Each read of up to {@code size} bytes is one message: how a pipe's bytes become datagrams. */
    private static final class Chunks implements Messages {
        private final InputStream in;
        private final byte[] buffer;

        Chunks(InputStream in, int size) {
            this.in = in;
            this.buffer = new byte[size];
        }

        @Override
        public byte[] next() throws IOException {
            int n;
            do {
                n = in.read(buffer);
            } while (n == 0);
            return n < 0 ? null : Arrays.copyOf(buffer, n);
        }
    }

    /**
     * Each line is one message, with its newline or without, as its bytes ({@code \r} and all); a line
     * longer than {@code max} bytes goes as several messages.
     */
    private static final class Lines implements Messages {
        private final InputStream in;
        private final int max;
        private final boolean withNewline;
        private final byte[] line;

        Lines(InputStream in, int max, boolean withNewline) {
            this.in = in.markSupported() ? in : new BufferedInputStream(in);
            this.max = max;
            this.withNewline = withNewline;
            this.line = new byte[max + 1];
        }

        @Override
        public byte[] next() throws IOException {
            int length = 0;
            int b = -1;
            while (length < max && (b = in.read()) >= 0 && b != '\n') {
                line[length++] = (byte) b;
            }
            if (length == max) { // full: a newline right after still belongs to this line
                in.mark(1);
                b = in.read();
                if (b != '\n') {
                    in.reset();
                }
            }
            if (b < 0 && length == 0) {
                return null;
            }
            if (b == '\n' && withNewline) {
                line[length++] = '\n';
            }
            return Arrays.copyOf(line, length);
        }
    }

    private static final class TcpExchange implements Exchange {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        TcpExchange(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        @Override
        public byte[] roundTrip(byte[] message) throws IOException {
            out.write(message);
            return in.readNBytes(message.length); // the echo may come back in any number of pieces
        }

        /** Half-closes and waits for the server's close: only that shows nothing followed the echo. */
        @Override
        public String finish() throws IOException {
            socket.shutdownOutput(); // the server echoes what is left, then closes
            try {
                return in.read() < 0 ? null : "the server sent bytes that were never sent to it";
            } catch (SocketTimeoutException e) {
                return "every echo came back, but the server did not close within "
                        + Timeouts.describe(Duration.ofMillis(socket.getSoTimeout())) + " of the end of the input";
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static final class UdpExchange implements Exchange {
        private final DatagramSocket socket;
        private final InetSocketAddress server;
        private final long timeoutNanos;
        private final byte[] replyBuffer = new byte[65_536]; // the largest datagram, IPv4 or IPv6
        /** Earlier messages whose replies timed out: such a reply may still arrive, late, and is skipped. */
        private int overdue;

        /**
         * Not {@code connect}ed, though that would filter replies for us: a connected socket cannot
         * receive an empty datagram in the JDK, and RFC 862 echoes those too. We filter by source instead.
         */
        UdpExchange(DatagramSocket socket, InetSocketAddress server, Duration timeout) {
            this.socket = socket;
            this.server = server;
            this.timeoutNanos = timeout.toNanos();
        }

        @Override
        public byte[] roundTrip(byte[] message) throws IOException {
            socket.send(new DatagramPacket(message, message.length, server));
            // One deadline for the reply, however many datagrams from elsewhere or late replies come first.
            long deadline = System.nanoTime() + timeoutNanos;
            while (true) {
                long remaining = deadline - System.nanoTime();
                DatagramPacket reply = new DatagramPacket(replyBuffer, replyBuffer.length);
                try {
                    if (remaining <= 0) {
                        throw new SocketTimeoutException("no reply in time");
                    }
                    socket.setSoTimeout(Timeouts.millis(Duration.ofNanos(remaining)));
                    socket.receive(reply);
                } catch (SocketTimeoutException e) {
                    overdue++;
                    throw e;
                }
                if (!server.equals(reply.getSocketAddress())) {
                    continue; // not from the server: not a reply
                }
                byte[] bytes = Arrays.copyOf(reply.getData(), reply.getLength());
                if (Arrays.equals(bytes, message) || overdue == 0) {
                    return bytes;
                }
                overdue--; // a late reply to a message that timed out: not this one's, wait on
            }
        }

        @Override
        public String finish() {
            return null;
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
