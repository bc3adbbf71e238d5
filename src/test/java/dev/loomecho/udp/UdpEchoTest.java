package dev.loomecho.udp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.TestClient;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class UdpEchoTest {

    private static EchoServer udpServer(UdpConfig udp) throws IOException {
        return EchoServer.builder().port(0).udp(udp.withEnabled(true)).start();
    }

    @Test
    void isOffByDefault() throws IOException {
        try (EchoServer server = EchoServer.builder().port(0).start()) {
            assertTrue(server.udpAddress().isEmpty());
        }
    }

    @Test
    void echoesDatagramsUnchangedOnTheTcpPortNumber() throws IOException {
        try (EchoServer server = udpServer(UdpConfig.DEFAULTS); Client client = new Client()) {
            InetSocketAddress udp = server.udpAddress().orElseThrow();
            assertEquals(server.port(), udp.getPort(), "same port number as TCP unless --udp-port");
            for (int size : new int[] {1, 1024, 8192, UdpEcho.MAX_IPV4_DATAGRAM}) {
                byte[] payload = TestClient.randomBytes(size, size);
                assertArrayEquals(payload, client.roundTrip(payload, udp), "size " + size);
            }
            // counted after the reply is sent, so the count may trail the reply by a moment
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().udpEchoed() == 4);
        }
    }

    @Test
    void answersAZeroLengthDatagramWithAZeroLengthOne() throws IOException {
        try (EchoServer server = udpServer(UdpConfig.DEFAULTS); Client client = new Client()) {
            assertArrayEquals(new byte[0], client.roundTrip(new byte[0], server.udpAddress().orElseThrow()));
        }
    }

    @Test
    void dropsDatagramsBeyondTheRatePerSourceAndCountsThem() throws IOException {
        try (EchoServer server = udpServer(UdpConfig.DEFAULTS.withRate(1, 5)); Client client = new Client()) {
            InetSocketAddress udp = server.udpAddress().orElseThrow();
            for (int i = 0; i < 50; i++) {
                client.send(new byte[] {(byte) i}, udp);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().udpEchoed() + server.stats().udpDropped() == 50);
            assertTrue(server.stats().udpEchoed() <= 6, "echoed " + server.stats().udpEchoed() + " of a burst of 5");
            assertTrue(server.stats().udpDropped() >= 44);
        }
    }

    @Test
    void dropsDatagramsFromAPrivilegedSourcePort() throws IOException {
        try (EchoServer server = udpServer(UdpConfig.DEFAULTS);
             DatagramChannel chargen = DatagramChannel.open()) {
            chargen.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            chargen.bind(new InetSocketAddress("127.0.0.1", 1019)); // as root; a non-root run cannot bind it
            chargen.send(ByteBuffer.wrap(new byte[] {1}), server.udpAddress().orElseThrow());
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().udpDropped() == 1);
            assertEquals(0, server.stats().udpEchoed());
        }
    }

    @Test
    void listensOnItsOwnPortWhenAsked() throws IOException {
        int udpPort;
        try (DatagramChannel probe = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            udpPort = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        try (EchoServer server = udpServer(UdpConfig.DEFAULTS.withPort(udpPort)); Client client = new Client()) {
            assertEquals(udpPort, server.udpAddress().orElseThrow().getPort());
            assertArrayEquals(new byte[] {42}, client.roundTrip(new byte[] {42}, server.udpAddress().orElseThrow()));
        }
    }

    @Test
    void echoesIpv6DatagramsWholeUpToTheIpv6Limit() throws IOException {
        InetAddress v6 = InetAddress.getByName("::1");
        try (EchoServer server = EchoServer.builder().bindAddress(v6).port(0).udp(UdpConfig.DEFAULTS.withEnabled(true)).start();
             Client client = new Client(v6)) {
            InetSocketAddress udp = server.udpAddress().orElseThrow();
            // Over IPv6 a datagram may carry 20 bytes more than over IPv4: 65,527.
            for (int size : new int[] {UdpEcho.MAX_IPV4_DATAGRAM, UdpEcho.MAX_IPV4_DATAGRAM + 1, UdpEcho.MAX_IPV6_DATAGRAM}) {
                byte[] payload = TestClient.randomBytes(size, size);
                assertArrayEquals(payload, client.roundTrip(payload, udp), "size " + size);
            }
        }
    }

    @Test
    void keepsEchoingAfterAReplyCannotBeSent() throws Exception {
        InetAddress spoofed = InetAddress.getByName("127.0.0.2"); // stands for a source with no route back
        DatagramChannel bound = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        try (UdpEcho echo = new UdpEcho(new FailingSendChannel(bound, spoofed), UdpConfig.DEFAULTS.withEnabled(true));
             Client unanswerable = new Client(spoofed);
             Client client = new Client()) {
            unanswerable.send(new byte[] {1}, echo.address());
            await().atMost(Duration.ofSeconds(5)).until(() -> echo.dropped() == 1); // counted, not fatal

            assertArrayEquals(new byte[] {2}, client.roundTrip(new byte[] {2}, echo.address()));
            await().atMost(Duration.ofSeconds(5)).until(() -> echo.echoed() == 1);
        }
    }

    @Test
    void refusesADatagramFromItsOwnAddressAndPortSoItCannotEchoItself() throws IOException {
        try (EchoServer server = udpServer(UdpConfig.DEFAULTS)) {
            InetSocketAddress udp = server.udpAddress().orElseThrow();
            sendFromPort(udp.getPort(), new byte[] {1}, udp); // arrives "from" the server itself
            await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().udpDropped() == 1);
            assertEquals(0, server.stats().udpEchoed(), "it echoed its own datagram back to itself");
        }
    }

    @Test
    void twoServersOnOnePortNumberDoNotBounceASpoofedDatagram() throws IOException {
        // 7007 <-> 7007 on two hosts; here two loopback addresses with one port number.
        try (EchoServer a = udpServer(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000))) {
            int port = a.port();
            try (EchoServer b = EchoServer.builder().bindAddress(InetAddress.getByName("127.0.0.2")).port(port)
                    .udp(UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000).withEnabled(true)).start()) {
                sendFromPort(port, new byte[] {1}, b.udpAddress().orElseThrow()); // "from" a (127.0.0.1:port) to b
                await().atMost(Duration.ofSeconds(5)).until(() -> b.stats().udpDropped() == 1);
                assertEquals(0, a.stats().udpEchoed() + b.stats().udpEchoed(), "the datagram bounced between them");
            }
        }
    }

    @Test
    void twoServersBounceASpoofedDatagramOnlyABoundedNumberOfTimes() throws IOException {
        // With a rate limit the loop never reaches (on a slow link, or set this high), only the loop
        // detection can end it.
        UdpConfig unlimited = UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000);
        try (EchoServer a = udpServer(unlimited); EchoServer b = udpServer(unlimited)) {
            sendFromPort(b.udpAddress().orElseThrow().getPort(), new byte[100], a.udpAddress().orElseThrow());
            LongSupplier echoed = () -> a.stats().udpEchoed() + b.stats().udpEchoed();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(500)).until(new Settled(echoed));
            assertTrue(echoed.getAsLong() > 0, "the spoofed datagram was not echoed at all");
            assertTrue(echoed.getAsLong() <= 2L * UdpConfig.DEFAULTS.loopLimit() + 2,
                    "one datagram was echoed " + echoed.getAsLong() + " times");
        }
    }

    @Test
    void twoServersBounceTwoAlternatingSpoofedDatagramsOnlyABoundedNumberOfTimes() throws IOException {
        // Two different payloads in flight: neither server ever sees the same datagram twice in a row.
        UdpConfig unlimited = UdpConfig.DEFAULTS.withRate(1_000_000, 1_000_000);
        try (EchoServer a = udpServer(unlimited); EchoServer b = udpServer(unlimited)) {
            int bPort = b.udpAddress().orElseThrow().getPort();
            sendFromPort(bPort, new byte[] {1}, a.udpAddress().orElseThrow());
            sendFromPort(bPort, new byte[] {2}, a.udpAddress().orElseThrow());
            LongSupplier echoed = () -> a.stats().udpEchoed() + b.stats().udpEchoed();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(500)).until(new Settled(echoed));
            assertTrue(echoed.getAsLong() <= 2 * (2L * UdpConfig.DEFAULTS.loopLimit() + 2),
                    "two datagrams were echoed " + echoed.getAsLong() + " times");
        }
    }

    /**
     * Sends a datagram whose source is {@code port} on 127.0.0.1 — a port a server already holds. The
     * server's more specific binding (its own address) still gets what is sent to that port, so the
     * replies go to it, as they would to a spoofed source's real owner.
     */
    private static void sendFromPort(int port, byte[] payload, InetSocketAddress to) throws IOException {
        try (DatagramChannel spoofer = DatagramChannel.open(StandardProtocolFamily.INET)) {
            spoofer.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            spoofer.bind(new InetSocketAddress("0.0.0.0", port));
            spoofer.send(ByteBuffer.wrap(payload), to);
        }
    }

    /** True once a counter is above zero and has not moved between two polls. */
    private static final class Settled implements Callable<Boolean> {
        private final LongSupplier counter;
        private long previous = -1;

        Settled(LongSupplier counter) {
            this.counter = counter;
        }

        @Override
        public Boolean call() {
            long now = counter.getAsLong();
            boolean settled = now > 0 && now == previous;
            previous = now;
            return settled;
        }
    }

    /** A blocking datagram client whose receive times out instead of hanging the test. */
    private static final class Client implements AutoCloseable {
        private final DatagramSocket socket;

        Client() throws IOException {
            this(InetAddress.getLoopbackAddress());
        }

        Client(InetAddress bindAddress) throws IOException {
            socket = new DatagramSocket(0, bindAddress);
            socket.setSoTimeout(5_000);
            socket.setReceiveBufferSize(1 << 20);
        }

        void send(byte[] payload, InetSocketAddress to) throws IOException {
            socket.send(new java.net.DatagramPacket(payload, payload.length, to));
        }

        byte[] roundTrip(byte[] payload, InetSocketAddress to) throws IOException {
            send(payload, to);
            java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[UdpEcho.MAX_IPV6_DATAGRAM + 1], UdpEcho.MAX_IPV6_DATAGRAM + 1);
            try {
                socket.receive(reply);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no UDP echo within 5 s", e);
            }
            return Arrays.copyOf(reply.getData(), reply.getLength());
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}
