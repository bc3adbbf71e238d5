package dev.loomecho.udp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.NetworkNamespace;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The UDP echo on a network the test shapes: each case runs its servers in a child JVM inside a network
 * namespace of its own, whose loopback it reroutes or slows down. {@code UdpEchoTest} has in-process
 * equivalents that run everywhere; these skip, saying why, where namespaces are not available.
 */
@Timeout(120)
class UdpNamespaceTest {

    @Test
    void keepsEchoingWhenAReplyHasNoRouteBack() throws Exception {
        assumeTrue(NetworkNamespace.unavailableBecause() == null, NetworkNamespace::unavailableBecause);
        NetworkNamespace.Run run = NetworkNamespace.run(List.of(
                "ip link set lo up",
                "ip addr add 10.9.9.9/32 dev lo",
                // Replies from 127.0.0.1 to 10.9.9.9 find no route: "Network is unreachable", as for a spoofed source.
                "ip rule add pref 100 lookup local", "ip rule del pref 0",
                "ip rule add pref 10 from 127.0.0.1 to 10.9.9.9 unreachable"), Scenarios.class, "unreachable");
        assertEquals(0, run.exitCode(), run.output());
        assertEquals("yes", run.result("later-reply"), "a failed reply ended the UDP echo:\n" + run.output());
        assertEquals(1, run.number("dropped"), run.output());
        assertEquals(1, run.number("echoed"), run.output());
    }

    @Test
    void twoServersOnASlowLinkStopBouncingASpoofedDatagram() throws Exception {
        assumeTrue(NetworkNamespace.unavailableBecause() == null, NetworkNamespace::unavailableBecause);
        // ~6 KB/s: a 100-byte datagram loops some 20 times a second each way, well under --udp-rate's 100/s.
        NetworkNamespace.Run run = NetworkNamespace.run(List.of(
                "ip link set lo up",
                "tc qdisc add dev lo root tbf rate 50kbit burst 1600 latency 1s"), Scenarios.class, "loop");
        assertEquals(0, run.exitCode(), run.output());
        assertEquals("true", run.result("settled"), "the loop was still running after 10 s:\n" + run.output());
        long echoed = run.number("echoed");
        assertTrue(echoed > 0 && echoed <= 2L * UdpConfig.DEFAULTS.loopLimit() + 2, "echoed " + echoed + " times");
    }

    /** What runs inside the namespace; prints {@code RESULT key=value} lines for the test to check. */
    public static final class Scenarios {

        public static void main(String[] args) throws Exception {
            switch (args[0]) {
                case "unreachable" -> unreachable();
                case "loop" -> loop();
                default -> throw new IllegalArgumentException(args[0]);
            }
        }

        private static void unreachable() throws Exception {
            try (EchoServer server = EchoServer.builder().port(0).udp(UdpConfig.DEFAULTS.withEnabled(true)).start()) {
                InetSocketAddress udp = server.udpAddress().orElseThrow();
                try (DatagramSocket spoofed = new DatagramSocket(new InetSocketAddress("10.9.9.9", 0))) {
                    spoofed.send(new DatagramPacket(new byte[] {1}, 1, udp));
                }
                awaitQuietly(() -> server.stats().udpDropped() == 1);
                try (DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                    client.setSoTimeout(5_000);
                    client.send(new DatagramPacket(new byte[] {2}, 1, udp));
                    DatagramPacket reply = new DatagramPacket(new byte[16], 16);
                    try {
                        client.receive(reply);
                        System.out.println("RESULT later-reply=" + (reply.getLength() == 1 && reply.getData()[0] == 2 ? "yes" : "wrong"));
                    } catch (SocketTimeoutException e) {
                        System.out.println("RESULT later-reply=none");
                    }
                }
                awaitQuietly(() -> server.stats().udpEchoed() == 1);
                System.out.println("RESULT dropped=" + server.stats().udpDropped());
                System.out.println("RESULT echoed=" + server.stats().udpEchoed());
            }
        }

        private static void loop() throws Exception {
            UdpConfig udp = UdpConfig.DEFAULTS.withEnabled(true);
            try (EchoServer a = EchoServer.builder().port(0).udp(udp).start();
                 EchoServer b = EchoServer.builder().port(0).udp(udp).start();
                 DatagramChannel spoofer = DatagramChannel.open(StandardProtocolFamily.INET)) {
                // From b's port to a: a's reply goes to b (its binding is the more specific one), and so on.
                spoofer.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                spoofer.bind(new InetSocketAddress("0.0.0.0", b.udpAddress().orElseThrow().getPort()));
                spoofer.send(ByteBuffer.wrap(new byte[100]), a.udpAddress().orElseThrow());
                LongSupplier echoed = () -> a.stats().udpEchoed() + b.stats().udpEchoed();
                long[] previous = {-1};
                boolean settled = awaitQuietly(() -> {
                    long now = echoed.getAsLong();
                    boolean same = now > 0 && now == previous[0];
                    previous[0] = now;
                    return same;
                });
                System.out.println("RESULT settled=" + settled);
                System.out.println("RESULT echoed=" + echoed.getAsLong());
            }
        }

        /** Polls once a second for up to 10 s; false if the condition never held. */
        private static boolean awaitQuietly(java.util.concurrent.Callable<Boolean> condition) {
            try {
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofSeconds(1)).until(condition);
                return true;
            } catch (ConditionTimeoutException e) {
                return false;
            }
        }
    }
}
