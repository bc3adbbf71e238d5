package dev.loomecho.udp;

import java.util.Set;

/**
 * UDP echo settings, off by default.
 *
 * @param enabled            serve UDP echo beside TCP
 * @param port               UDP port; -1 means the TCP port's number
 * @param ratePerSource      datagrams per second answered per source address (token bucket)
 * @param burst              datagrams a source may send at once before the rate applies
 * @param minSourcePort      datagrams from lower source ports are dropped (privileged services: echo 7, chargen 19)
 * @param blockedSourcePorts further source ports to drop (2049, NFS, by OpenBSD inetd's rule)
 * @param loopLimit          after one payload was answered this many times to one source (among the
 *                           replies the server remembers), its next one is refused: each datagram
 *                           bouncing between this and another echo server does so at most this often,
 *                           so a loop of any size ends (0 = never refuse)
 */
public record UdpConfig(boolean enabled, int port, int ratePerSource, int burst, int minSourcePort,
                        Set<Integer> blockedSourcePorts, int loopLimit) {

    public static final UdpConfig DEFAULTS = new UdpConfig(false, -1, 100, 200, 1024, Set.of(2049), 64);

    public UdpConfig {
        blockedSourcePorts = Set.copyOf(blockedSourcePorts);
        require(port >= -1 && port <= 65_535, "udp-port must be 0..65535, was " + port);
        require(ratePerSource >= 1, "udp-rate must be at least 1 datagram/s, was " + ratePerSource);
        require(burst >= 1, "udp-burst must be at least 1, was " + burst);
        require(minSourcePort >= 0 && minSourcePort <= 65_536, "udp-min-source-port must be 0..65536");
        require(loopLimit >= 0, "udp-loop-limit must not be negative, was " + loopLimit);
    }

    public UdpConfig withEnabled(boolean enabled) {
        return new UdpConfig(enabled, port, ratePerSource, burst, minSourcePort, blockedSourcePorts, loopLimit);
    }

    public UdpConfig withPort(int port) {
        return new UdpConfig(enabled, port, ratePerSource, burst, minSourcePort, blockedSourcePorts, loopLimit);
    }

    public UdpConfig withRate(int ratePerSource, int burst) {
        return new UdpConfig(enabled, port, ratePerSource, burst, minSourcePort, blockedSourcePorts, loopLimit);
    }

    public UdpConfig withSourcePortRule(int minSourcePort, Set<Integer> blockedSourcePorts) {
        return new UdpConfig(enabled, port, ratePerSource, burst, minSourcePort, blockedSourcePorts, loopLimit);
    }

    public UdpConfig withLoopLimit(int loopLimit) {
        return new UdpConfig(enabled, port, ratePerSource, burst, minSourcePort, blockedSourcePorts, loopLimit);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
