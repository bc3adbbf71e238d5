package dev.loomecho.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReflectionGuardTest {

    private static final long SECOND = 1_000_000_000L;
    private static final int OWN_PORT = 7007;
    private static final ByteBuffer PING = ByteBuffer.wrap(new byte[] {'p', 'i', 'n', 'g'});
    private final ReflectionGuard guard = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(10, 3), OWN_PORT);

    @Test
    void refusesPrivilegedSourcePortsAndNfs() {
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 7), PING, 0), "echo port");
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 19), PING, 0), "chargen port");
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 1023), PING, 0));
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", 2049), PING, 0), "NFS, OpenBSD inetd's rule");
        assertNull(guard.refusal(new InetSocketAddress("127.0.0.1", 1024), PING, 0));
    }

    @Test
    void refusesItsOwnPortNumberFromAnyAddress() {
        // Another echo server on the same port (7007 ↔ 7007), or this one's own address spoofed.
        String refusal = guard.refusal(new InetSocketAddress("192.0.2.7", OWN_PORT), PING, 0);
        assertNotNull(refusal);
        assertTrue(refusal.contains("own port"), refusal);
        assertNotNull(guard.refusal(new InetSocketAddress("127.0.0.1", OWN_PORT), PING, 0));
    }

    @Test
    void refusesBroadcastAndMulticastSources() {
        assertNotNull(guard.refusal(new InetSocketAddress("255.255.255.255", 40_000), PING, 0));
        assertNotNull(guard.refusal(new InetSocketAddress("224.0.0.1", 40_000), PING, 0));
        assertNotNull(guard.refusal(new InetSocketAddress("ff02::1", 40_000), PING, 0));
        assertNotNull(guard.refusal(new InetSocketAddress("0.0.0.0", 40_000), PING, 0));
    }

    @Test
    void allowsABurstThenTheRatePerSource() {
        InetSocketAddress source = new InetSocketAddress("127.0.0.2", 40_000);
        for (int i = 0; i < 3; i++) {
            assertNull(guard.refusal(source, numbered(i), 0), "burst of 3");
        }
        assertNotNull(guard.refusal(source, numbered(3), 0), "bucket empty");
        assertNull(guard.refusal(source, numbered(4), SECOND / 10), "one token back after 1/10 s at 10/s");
        assertNotNull(guard.refusal(source, numbered(5), SECOND / 10));
        assertNull(guard.refusal(new InetSocketAddress("127.0.0.3", 40_000), PING, 0), "other sources have their own bucket");
    }

    @Test
    void theSourcePortRuleIsConfigurable() {
        ReflectionGuard open = new ReflectionGuard(UdpConfig.DEFAULTS.withSourcePortRule(0, Set.of()), OWN_PORT);
        assertNull(open.refusal(new InetSocketAddress("127.0.0.1", 2049), PING, 0));
    }

    @Test
    void refusesASourceThatKeepsSendingBackItsLastReplyThenAnswersItAgain() {
        ReflectionGuard unlimited = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000), OWN_PORT);
        InetSocketAddress otherEcho = new InetSocketAddress("192.0.2.8", 7008);
        for (int i = 0; i < UdpConfig.DEFAULTS.loopLimit(); i++) {
            assertNull(unlimited.refusal(otherEcho, PING, 0), "reply " + (i + 1) + " of the same datagram");
        }
        String refusal = unlimited.refusal(otherEcho, PING, 0);
        assertNotNull(refusal, "the same datagram back once more: an echo loop");
        assertTrue(refusal.contains("unchanged"), refusal);
        assertNull(unlimited.refusal(otherEcho, PING, 0), "a retry after the refusal is answered");
    }

    @Test
    void aLoopLimitOfZeroAnswersEveryIdenticalDatagram() {
        ReflectionGuard never = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000).withLoopLimit(0), OWN_PORT);
        InetSocketAddress pinger = new InetSocketAddress("192.0.2.10", 40_001);
        for (int i = 0; i < 1_000; i++) {
            assertNull(never.refusal(pinger, PING, 0), "ping " + i);
        }
    }

    @Test
    void aClientWhosePayloadChangesIsNeverTakenForALoop() {
        ReflectionGuard unlimited = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000), OWN_PORT);
        InetSocketAddress client = new InetSocketAddress("192.0.2.9", 40_000);
        for (int i = 0; i < 10 * UdpConfig.DEFAULTS.loopLimit(); i++) {
            assertNull(unlimited.refusal(client, numbered(i), 0), "datagram " + i);
        }
    }

    @Test
    void aClientThatRepeatsOnePayloadAmongFreshOnesLosesOnlyOneCopyInLimitPlusOne() {
        ReflectionGuard unlimited = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000), OWN_PORT);
        InetSocketAddress client = new InetSocketAddress("192.0.2.9", 40_000);
        int limit = UdpConfig.DEFAULTS.loopLimit();
        int pings = 0;
        int refused = 0;
        for (int i = 0; i < 10 * limit; i++) {
            if (i % 2 == 0) {
                pings++;
                if (unlimited.refusal(client, PING, 0) != null) {
                    refused++;
                    assertEquals(0, pings % (limit + 1), "ping " + pings + " refused");
                }
            } else {
                assertNull(unlimited.refusal(client, numbered(i), 0), "fresh datagram " + i);
            }
        }
        assertEquals(pings / (limit + 1), refused, "one ping in " + (limit + 1));
    }

    /**
     * Spoofed datagrams bouncing between this server and another echo server: the other one sends each
     * back in turn, so no two replies in a row are the same. Every payload the guard refuses leaves the
     * loop; the loop must end after a bounded number of replies, however many datagrams are in it.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 8, 9, 16, 100, 1_000})
    void aLoopOfSeveralDatagramsEndsAfterABoundedNumberOfReplies(int inFlight) {
        ReflectionGuard unlimited = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000), OWN_PORT);
        InetSocketAddress otherEcho = new InetSocketAddress("192.0.2.8", 7008);
        List<ByteBuffer> loop = new ArrayList<>();
        for (int i = 0; i < inFlight; i++) {
            loop.add(numbered(i));
        }
        long answered = 0;
        long bound = (long) inFlight * (UdpConfig.DEFAULTS.loopLimit() + 1);
        for (int turn = 0; !loop.isEmpty() && answered <= bound; turn++) {
            ByteBuffer datagram = loop.get(turn % loop.size());
            if (unlimited.refusal(otherEcho, datagram, 0) == null) {
                answered++;
            } else {
                loop.remove(datagram);
            }
        }
        assertTrue(loop.isEmpty(), loop.size() + " of " + inFlight + " datagrams still looping after " + answered + " replies");
    }

    /**
     * The attacker keeps a loop going by spoofing a fresh datagram into it every 32 replies (the other
     * echo server sends that one back too, so it joins the loop). Each datagram must still be bounced at
     * most the limit, and the loop must end once the attacker stops.
     */
    @Test
    void aLoopFedAFreshDatagramEverySoOftenBouncesEachAtMostTheLimit() {
        ReflectionGuard unlimited = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000), OWN_PORT);
        InetSocketAddress otherEcho = new InetSocketAddress("192.0.2.8", 7008);
        int limit = UdpConfig.DEFAULTS.loopLimit();
        int injections = 200;
        List<ByteBuffer> loop = new ArrayList<>(List.of(numbered(0), numbered(1)));
        Map<ByteBuffer, Integer> bounces = new HashMap<>();
        int injected = 0;
        long answered = 0;
        long bound = (2L + injections) * limit;
        for (int turn = 0; !loop.isEmpty() && answered <= bound; turn++) {
            if (turn % 32 == 31 && injected < injections) {
                loop.add(numbered(2 + injected++));
            }
            ByteBuffer datagram = loop.get(turn % loop.size());
            if (unlimited.refusal(otherEcho, datagram, 0) == null) {
                answered++;
                bounces.merge(datagram, 1, Integer::sum);
            } else {
                loop.remove(datagram);
            }
        }
        assertEquals(injections, injected);
        assertTrue(loop.isEmpty(), loop.size() + " datagrams still looping after " + answered + " replies");
        assertTrue(bounces.values().stream().allMatch(n -> n <= limit), "a datagram bounced more than " + limit + " times");
    }

    @Test
    void memoryStaysTheSameHoweverManySourcesAndALoopIsStillCaught() {
        ReflectionGuard unlimited = new ReflectionGuard(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000), OWN_PORT);
        // 100,000 spoofed sources, each answered once: the detector keeps only the latest replies.
        for (int i = 0; i < 100_000; i++) {
            InetSocketAddress spoofed = new InetSocketAddress("10." + (i >> 16) + "." + (i >> 8 & 0xFF) + "." + (i & 0xFF), 40_000);
            assertNull(unlimited.refusal(spoofed, PING, 0));
        }
        EchoLoopDetector loops = unlimited.loops();
        assertEquals(EchoLoopDetector.CAPACITY, loops.remembered(), "replies remembered");
        InetSocketAddress otherEcho = new InetSocketAddress("192.0.2.8", 7008);
        for (int i = 0; i < UdpConfig.DEFAULTS.loopLimit(); i++) {
            assertNull(unlimited.refusal(otherEcho, PING, 0));
        }
        assertNotNull(unlimited.refusal(otherEcho, PING, 0), "the loop was not caught");
        assertTrue(loops.remembered() <= EchoLoopDetector.CAPACITY);
    }

    private static ByteBuffer numbered(int i) {
        return ByteBuffer.allocate(5).put((byte) '#').putInt(i).flip();
    }
}
