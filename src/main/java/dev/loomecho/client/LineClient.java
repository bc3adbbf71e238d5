package dev.loomecho.client;

import java.io.BufferedReader;
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
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * The seeds' client, done right: read a line, send it, wait for its echo, print it with the round-trip
 * time — over TCP (the line and its newline, echo read until all of it is back, however the network
 * splits it) or over UDP (the line as one datagram, its reply awaited up to a timeout).
 */
public final class LineClient implements Closeable {

    /** One line's round trip over some transport. */
    private interface Exchange extends Closeable {
        /** Sends {@code message}; returns the reply, or fewer bytes if the peer closed first. */
        byte[] roundTrip(byte[] message) throws IOException;

        /** Called at the end of the input; returns what went wrong, or null. */
        String finish() throws IOException;
    }

    private final Exchange exchange;
    private final Charset charset;
    private final boolean udp;

    private LineClient(Exchange exchange, Charset charset, boolean udp) {
        this.exchange = exchange;
        this.charset = charset;
        this.udp = udp;
    }

    /** Connects over TCP; each read waits at most {@code timeout}. */
    public static LineClient tcp(InetSocketAddress server, Duration timeout, Charset charset) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(server, (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.setTcpNoDelay(true); // one small message at a time: do not wait to coalesce
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new LineClient(new TcpExchange(socket), charset, false);
    }

    /** Sends datagrams to {@code server}; each reply is awaited at most {@code timeout}. */
    public static LineClient udp(InetSocketAddress server, Duration timeout, Charset charset) throws IOException {
        DatagramSocket socket = new DatagramSocket();
        socket.setSoTimeout((int) timeout.toMillis());
        return new LineClient(new UdpExchange(socket, server), charset, true);
    }

    /**
     * Sends each line of {@code lines} and checks its echo. With {@code showTimes} (a terminal) each echo is
     * printed with its round-trip time; without, just the echoed line. Returns 0 if every echo came back
     * unchanged, 1 otherwise (what went wrong goes to {@code problems}).
     */
    public int run(BufferedReader lines, PrintStream out, PrintStream problems, boolean showTimes) throws IOException {
        int failures = 0;
        String line;
        while ((line = lines.readLine()) != null) {
            byte[] message = (udp ? line : line + "\n").getBytes(charset);
            long started = System.nanoTime();
            byte[] reply;
            try {
                reply = exchange.roundTrip(message);
            } catch (SocketTimeoutException e) {
                problems.println("loom-echo client: no echo of \"" + line + "\" within the timeout"
                        + (udp ? " (lost, or dropped by the server's reflection guard or rate limit)" : ""));
                if (!udp) {
                    return 1; // a late TCP echo would be taken for the next line's: stop here
                }
                failures++;
                continue;
            }
            double millis = (System.nanoTime() - started) / 1e6;
            if (!Arrays.equals(message, reply)) {
                problems.println(reply.length < message.length && !udp
                        ? "loom-echo client: the server closed after echoing " + reply.length + " of " + message.length + " bytes"
                        : "loom-echo client: wrong echo of \"" + line + "\": got \"" + new String(reply, charset).strip() + "\"");
                return 1;
            }
            out.println(showTimes ? String.format(Locale.ROOT, "%s  [echo in %.3f ms]", line, millis) : line);
        }
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

        @Override
        public String finish() throws IOException {
            socket.shutdownOutput(); // the server echoes what is left, then closes
            int extra = in.readAllBytes().length;
            return extra == 0 ? null : "the server sent " + extra + " bytes that were never sent to it";
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static final class UdpExchange implements Exchange {
        private final DatagramSocket socket;
        private final InetSocketAddress server;
        private final byte[] replyBuffer = new byte[65_536]; // the largest datagram, IPv4 or IPv6
        /** Earlier lines whose replies timed out: such a reply may still arrive, late, and is skipped. */
        private int overdue;

        /**
         * Not {@code connect}ed, though that would filter replies for us: a connected socket cannot
         * receive an empty datagram in the JDK, and RFC 862 echoes those too. We filter by source instead.
         */
        UdpExchange(DatagramSocket socket, InetSocketAddress server) {
            this.socket = socket;
            this.server = server;
        }

        @Override
        public byte[] roundTrip(byte[] message) throws IOException {
            socket.send(new DatagramPacket(message, message.length, server));
            while (true) {
                DatagramPacket reply = new DatagramPacket(replyBuffer, replyBuffer.length);
                try {
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
                overdue--; // a late reply to a line that timed out: not this line's, wait on
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
