package dev.loomecho.udp;

import dev.loomecho.engine.Listeners;
import dev.loomecho.engine.RateLimitedLog;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 862 over UDP: each datagram goes back to its sender unchanged, zero-length ones included.
 *
 * <p>An open UDP echo is a reflection amplifier (CVE-1999-0103: spoof a packet "from" a chargen or
 * another echo port and two servers bounce it forever). So, like OpenBSD's inetd, datagrams from
 * privileged source ports or port 2049, and from broadcast or multicast sources, are dropped, and each
 * source address gets a token bucket. Drops are counted, and logged at most once per interval.
 */
public final class UdpEcho implements AutoCloseable {

    /** The largest UDP payload over IPv4 (65,535 − 8 UDP header − 20 IP header). */
    public static final int MAX_DATAGRAM = 65_507;
    private static final Logger log = LoggerFactory.getLogger(UdpEcho.class);

    /** What the guards allow. */
    public record Guards(int minSourcePort, Set<Integer> blockedSourcePorts, int ratePerSource, int burst) {
        public static Guards defaults() {
            return new Guards(1024, Set.of(2049), 100, 200);
        }
    }

    private final DatagramChannel channel;
    private final Guards guards;
    private final SourceRateLimiter limiter;
    private final RateLimitedLog dropLog = new RateLimitedLog(log, Duration.ofSeconds(10));
    private final LongAdder echoed = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final Thread receiver;

    private UdpEcho(DatagramChannel channel, Guards guards) {
        this.channel = channel;
        this.guards = guards;
        this.limiter = new SourceRateLimiter(guards.ratePerSource(), guards.burst());
        this.receiver = Thread.ofPlatform().name("loom-echo-udp").daemon().start(this::serve);
    }

    /** Binds {@code address} (a busy port names it) and starts echoing. */
    public static UdpEcho start(InetSocketAddress address, Guards guards) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(address);
        } catch (BindException e) {
            channel.close();
            BindException named = new BindException("cannot listen for UDP on " + Listeners.describe(address)
                    + ": " + e.getMessage());
            named.initCause(e);
            throw named;
        }
        return new UdpEcho(channel, guards);
    }

    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
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
                String refusal = refusal((InetSocketAddress) source);
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

    /** Why a datagram from {@code source} must not be answered, or null if it may be. */
    private String refusal(InetSocketAddress source) {
        int port = source.getPort();
        InetAddress address = source.getAddress();
        if (port < guards.minSourcePort() || guards.blockedSourcePorts().contains(port)) {
            return "source port " + port + " could be another service (echo/chargen reflection loop)";
        }
        if (address.isMulticastAddress() || address.isAnyLocalAddress() || isLimitedBroadcast(address)) {
            return "broadcast or multicast source";
        }
        if (!limiter.tryAcquire(address, System.nanoTime())) {
            return "over " + guards.ratePerSource() + " datagrams/s from this address";
        }
        return null;
    }

    private static boolean isLimitedBroadcast(InetAddress address) {
        return address instanceof Inet4Address && address.getHostAddress().equals("255.255.255.255");
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
