package dev.loomecho.udp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Decides whether a datagram may be echoed. An echo answering a spoofed packet "from" another echo or
 * chargen port makes two servers bounce traffic forever (CVE-1999-0103); answering broadcast sources
 * multiplies it. So, like OpenBSD's inetd: drop privileged source ports and 2049, drop broadcast and
 * multicast sources, and rate-limit each source address.
 */
final class ReflectionGuard {

    private final UdpConfig config;
    private final SourceRateLimiter limiter;

    ReflectionGuard(UdpConfig config) {
        this.config = config;
        this.limiter = new SourceRateLimiter(config.ratePerSource(), config.burst());
    }

    /** Why a datagram from {@code source} at time {@code now} must not be answered, or null if it may be. */
    String refusal(InetSocketAddress source, long now) {
        int port = source.getPort();
        InetAddress address = source.getAddress();
        if (port < config.minSourcePort() || config.blockedSourcePorts().contains(port)) {
            return "source port " + port + " may be another service (echo/chargen reflection loop)";
        }
        if (address.isMulticastAddress() || address.isAnyLocalAddress() || isLimitedBroadcast(address)) {
            return "broadcast or multicast source";
        }
        if (!limiter.tryAcquire(address, now)) {
            return "over " + config.ratePerSource() + " datagrams/s from this address";
        }
        return null;
    }

    private static boolean isLimitedBroadcast(InetAddress address) {
        return address instanceof Inet4Address && address.getHostAddress().equals("255.255.255.255");
    }
}
