package dev.loomecho.udp;

import dev.loomecho.engine.Listeners;
import dev.loomecho.engine.RateLimitedLog;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
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
 * {@link ReflectionGuard}. Drops are counted, and logged at most once per interval.
 */
public final class UdpEcho implements AutoCloseable {

    /** The largest UDP payload over IPv4 (65,535 − 8 UDP header − 20 IP header). */
    public static final int MAX_DATAGRAM = 65_507;
    private static final Logger log = LoggerFactory.getLogger(UdpEcho.class);

    private final DatagramChannel channel;
    private final ReflectionGuard guard;
    private final RateLimitedLog dropLog = new RateLimitedLog(log, Duration.ofSeconds(10));
    private final LongAdder echoed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final Thread receiver;

    private UdpEcho(DatagramChannel channel, UdpConfig config) {
        this.channel = channel;
        this.guard = new ReflectionGuard(config);
        this.receiver = Thread.ofPlatform().name("loom-echo-udp").daemon().start(this::serve);
    }

    /** Binds {@code address} (a busy port names it; {@code reusePort} shares it) and starts echoing. */
    public static UdpEcho start(InetSocketAddress address, UdpConfig config, boolean reusePort) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                Listeners.requireReusePort(channel);
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            channel.bind(address);
        } catch (BindException e) {
            channel.close();
            BindException named = new BindException("cannot listen for UDP on " + Listeners.describe(address)
                    + ": " + e.getMessage());
            named.initCause(e);
            throw named;
        }
        return new UdpEcho(channel, config);
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

    public long dropped() {
        return dropped.sum();
    }

    private void serve() {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM);
        try {
            while (true) {
                buffer.clear();
                SocketAddress source = channel.receive(buffer);
                String refusal = guard.refusal((InetSocketAddress) source, System.nanoTime());
                if (refusal != null) {
                    dropped.increment();
                    dropLog.warn("dropped UDP datagrams ({} since the last report); latest from {}: {}", source, refusal);
                    continue;
                }
                buffer.flip();
                channel.send(buffer, source);
                echoed.increment();
            }
        } catch (ClosedChannelException closed) {
            // close() was called
        } catch (IOException e) {
            log.error("UDP echo stopped", e);
        }
    }


    @Override
    public void close() {
        try {
            channel.close();
            receiver.join();
        } catch (IOException e) {
            log.debug("closing UDP channel: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
