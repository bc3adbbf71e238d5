package dev.loomecho.udp;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetSocketAddress;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReflectionGuardTest {

    private static final long SECOND = 1_000_000_000L;
    private final ReflectionGuard guard = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(10, 3));

    @Test
    void refusesPrivilegedSourcePortsAndNfs() {
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 7), 0), "echo port");
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 19), 0), "chargen port");
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 1023), 0));
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 2049), 0), "NFS, OpenBSD inetd's rule");
        assertNull(guard.refusal(new InetSocketAddress("127.0.0.1", 1024), 0));
    }

    @Test
    void refusesBroadcastAndMulticastSources() {
        assertNotNull(guard.refusal(new InetSocketAddress("255.255.255.255", 40_000), 0));
        assertNotNull(guard.refusal(new InetSocketAddress("224.0.0.1", 40_000), 0));
        assertNotNull(guard.refusal(new InetSocketAddress("ff02::1", 40_000), 0));
        assertNotNull(guard.refusal(new InetSocketAddress("0.0.0.0", 40_000), 0));
    }

    @Test
    void allowsABurstThenTheRatePerSource() {
        InetSocketAddress source = new InetSocketAddress("127.0.0.2", 40_000);
        for (int i = 0; i < 3; i++) {
            assertNull(guard.refusal(source, 0), "burst of 3");
        }
        assertNotNull(guard.refusal(source, 0), "bucket empty");
        assertNull(guard.refusal(source, SECOND / 10), "one token back after 1/10 s at 10/s");
        assertNotNull(guard.refusal(source, SECOND / 10));
        assertNull(guard.refusal(new InetSocketAddress("127.0.0.3", 40_000), 0), "other sources have their own bucket");
    }

    @Test
    void theSourcePortRuleIsConfigurable() {
        ReflectionGuard open = new ReflectionGuard(UdpConfig.DEFAULTS.withSourcePortRule(0, Set.of()));
        assertNull(open.refusal(new InetSocketAddress("127.0.0.1", 2049), 0));
    }
}
