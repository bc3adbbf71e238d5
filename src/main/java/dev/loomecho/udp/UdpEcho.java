package dev.loomecho.udp;

import dev.loomecho.engine.AcceptFailures;
import dev.loomecho.engine.Listeners;
import dev.loomecho.engine.RateLimitedLog;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 862 over UDP: each datagram goes back to its sender unchanged, zero-length ones included.
 *
 * <p>An open UDP echo is a reflection amplifier (CVE-1999-0103), so every datagram first passes the
 * {@link ReflectionGuard}. Drops are counted, and logged at most once per interval. Nothing a datagram
 * does ends the receive loop: a reply that cannot be sent (a spoofed source with no route back) is
 * dropped and counted like a refused one; only {@link #close()} ends it.
 */
public final class UdpEcho implements AutoCloseable {

    /** The largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header). */
    public static final int MAX_IPV4_DATAGRAM = 65_507;
    /** The largest UDP payload over IPv6 (no jumbograms): 65,535 (the payload length excludes the IP header) − 8. */
    public static final int MAX_IPV6_DATAGRAM = 65_527;
    private static final Logger log = LoggerFactory.getLogger(UdpEcho.class);

    private final DatagramChannel channel;
    private final ReflectionGuard guard;
    private final RateLimitedLog dropLog = new RateLimitedLog(log, Duration.ofSeconds(10));
    private final RateLimitedLog receiveFailureLog = new RateLimitedLog(log, Duration.ofSeconds(10));
    private final LongAdder echoed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final Thread receiver;

    /** Serves on an already bound {@code channel}; package-private so tests can hand in their own. */
    UdpEcho(DatagramChannel channel, UdpConfig config) throws IOException {
        this.channel = channel;
        this.guard = new ReflectionGuard(config, ((InetSocketAddress) channel.getLocalAddress()).getPort());
        this.receiver = Thread.ofPlatform().name("loom-echo-udp").daemon().start(this::serve);
    }

    /** Binds {@code address} (a busy port names it; {@code reusePort} shares it) and starts echoing. */
    public static UdpEcho start(InetSocketAddress address, UdpConfig config, boolean reusePort) throws IOException {
        DatagramChannel channel = Listeners.bind(DatagramChannel.open(), address, reusePort, "listen for UDP",
                (c, a, backlog) -> c.bind(a));
        try {
            return new UdpEcho(channel, config);
        } catch (IOException | RuntimeException | Error e) {
            Listeners.close(channel);
            throw e;
        }
    }

    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) channel.getLocalAddress();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public long echoed() {
        return echoed.sum();
    }

    /** Datagrams refused by the guards, and replies that could not be sent. */
    public long dropped() {
        return dropped.sum();
    }

    private void serve() {
        // Room for the largest datagram of either family: an IPv6 one may be 20 bytes longer than IPv4 allows.
        ByteBuffer buffer = ByteBuffer.allocate(MAX_IPV6_DATAGRAM);
        try {
            while (true) {
                buffer.clear();
                SocketAddress source = receive(buffer);
                if (source == null) {
                    continue;
                }
                buffer.flip();
                String refusal = guard.refusal((InetSocketAddress) source, buffer, System.nanoTime());
                if (refusal != null) {
                    drop(source, refusal);
                    continue;
                }
                try {
                    channel.send(buffer, source);
                    echoed.increment();
                } catch (ClosedChannelException closed) {
                    throw closed;
                } catch (IOException e) {
                    drop(source, "the reply could not be sent: " + e.getMessage()); // e.g. no route back to a spoofed source
                }
            }
        } catch (ClosedChannelException closed) {
            // close() was called
        }
    }

    /** Receives one datagram; null if receiving failed for a reason other than close (logged, then retried). */
    private SocketAddress receive(ByteBuffer buffer) throws ClosedChannelException {
        try {
            return channel.receive(buffer);
        } catch (ClosedChannelException closed) {
            throw closed;
        } catch (IOException e) {
            receiveFailureLog.warn("UDP receive failed ({} similar failures not logged since the last report); "
                    + "retrying in {} ms: {}", AcceptFailures.BACKOFF.toMillis(), e.toString());
            try {
                Thread.sleep(AcceptFailures.BACKOFF); // never spin on an error that repeats
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt(); // the next receive sees it and closes the channel
            }
            return null;
        }
    }

    private void drop(SocketAddress source, String reason) {
        dropped.increment();
        dropLog.warn("dropped UDP datagrams ({} since the last report); latest from {}: {}", source, reason);
    }

    /** Closes the socket and waits for the receive loop to end, also when this thread is interrupted. */
    @Override
    public void close() {
        Listeners.close(channel);
        boolean interrupted = false;
        while (true) {
            try {
                receiver.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
