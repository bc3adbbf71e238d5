package dev.loomecho.udp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.TestClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;
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
            for (int size : new int[] {1, 1024, 8192, UdpEcho.MAX_DATAGRAM}) {
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

    /** A blocking datagram client whose receive times out instead of hanging the test. */
    private static final class Client implements AutoCloseable {
        private final java.net.DatagramSocket socket = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress());

        Client() throws IOException {
            socket.setSoTimeout(5_000);
            socket.setReceiveBufferSize(1 << 20);
        }

        void send(byte[] payload, InetSocketAddress to) throws IOException {
            socket.send(new java.net.DatagramPacket(payload, payload.length, to));
        }

        byte[] roundTrip(byte[] payload, InetSocketAddress to) throws IOException {
            send(payload, to);
            java.net.DatagramPacket reply = new java.net.DatagramPacket(new byte[UdpEcho.MAX_DATAGRAM + 1], UdpEcho.MAX_DATAGRAM + 1);
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
