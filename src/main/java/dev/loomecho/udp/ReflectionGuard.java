package dev.loomecho.udp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Decides whether a datagram may be echoed. An echo answering a spoofed packet "from" another echo or
 * chargen port makes two servers bounce traffic forever (CVE-1999-0103); answering broadcast sources
 * multiplies it. So, like OpenBSD's inetd: drop privileged source ports and 2049, drop broadcast and
 * multicast sources, and rate-limit each source address. Two loom-echo servers on unprivileged ports
 * need more: a datagram from this server's own port number is refused (another echo server on the
 * same port, or this one spoofed), and so is a source that keeps sending back exactly what it was sent
 * (any other echo server, however many datagrams are in flight: see {@link EchoLoopDetector}).
 */
final class ReflectionGuard {

    private final UdpConfig config;
    private final int ownPort;
    private final SourceRateLimiter limiter;
    private final EchoLoopDetector loops;

    ReflectionGuard(UdpConfig config, int ownPort) {
        this.config = config;
        this.ownPort = ownPort;
        this.limiter = new SourceRateLimiter(config.ratePerSource(), config.burst());
        this.loops = new EchoLoopDetector(config.loopLimit());
    }

    /**
     * Why {@code datagram} (its remaining bytes) from {@code source} at time {@code now} must not be
     * answered, or null if it may be — and then it is taken as answered.
     */
    String refusal(InetSocketAddress source, ByteBuffer datagram, long now) {
        int port = source.getPort();
        InetAddress address = source.getAddress();
        if (port < config.minSourcePort() || config.blockedSourcePorts().contains(port)) {
            return "source port " + port + " may be another service (echo/chargen reflection loop)";
        }
        if (port == ownPort) {
            return "source port " + port + " is this server's own port (another echo server, or a spoofed loop)";
        }
        if (address.isMulticastAddress() || address.isAnyLocalAddress() || isLimitedBroadcast(address)) {
            return "broadcast or multicast source";
        }
        long fingerprint = loops.fingerprint(datagram);
        if (loops.isLoop(source, fingerprint)) {
            return "it kept sending back one of our replies unchanged, " + config.loopLimit()
                    + " times (another echo server?)";
        }
        if (!limiter.tryAcquire(address, now)) {
            return "over " + config.ratePerSource() + " datagrams/s from this address";
        }
        loops.replying(source, fingerprint);
        return null;
    }

    /** The loop detector, for tests of its memory. */
    EchoLoopDetector loops() {
        return loops;
    }

    private static boolean isLimitedBroadcast(InetAddress address) {
        return address instanceof Inet4Address && address.getHostAddress().equals("255.255.255.255");
    }
}
