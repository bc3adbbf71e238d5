package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Hostile peers, on every engine: each may hurt only its own connection. */
@ParameterizedClass(name = "engine {0}")
@EnumSource(Engine.class)
@Timeout(120)
class AbuseTest {

    private static final long MIB = 1 << 20;

    @Parameter
    Engine engine;

    @Test
    void aPeerThatSendsButNeverReadsCannotGrowServerMemoryAndIsClosedWhenStuck() throws Exception {
        int bufferCap = 64 * 1024;
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).bufferSize(bufferCap)
                .idleTimeout(Duration.ofSeconds(2)).drainTimeout(Duration.ZERO).start();
             SocketChannel pusher = SocketChannel.open(server.address());
             Selector writable = Selector.open()) {
            long heapBefore = usedHeapAfterGc();
            pusher.configureBlocking(false);
            pusher.register(writable, SelectionKey.OP_WRITE);
            ByteBuffer chunk = ByteBuffer.allocateDirect((int) MIB);
            long pushed = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            // Try to push 256 MiB; bounded by count and time, and ends early once one second passes
            // with the socket never writable: the server has stopped reading.
            while (pushed < 256 * MIB && System.nanoTime() < deadline) {
                if (writable.select(1_000) == 0) {
                    break;
                }
                writable.selectedKeys().clear();
                pushed += pusher.write(chunk.clear());
            }
            Stats stuck = server.stats();
            long heapGrowth = usedHeapAfterGc() - heapBefore;

            assertTrue(pushed < 256 * MIB, "the server kept reading all " + pushed / MIB + " MiB");
            assertTrue(stuck.bytesIn() - stuck.bytesOut() <= bufferCap, "server holds more than one buffer of echo");
            assertTrue(heapGrowth < 64 * MIB, "heap grew by " + heapGrowth / MIB + " MiB");
            try (TestClient polite = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {1, 2, 3}, polite.echo(new byte[] {1, 2, 3}), "others are still served");
            }
            // Neither side makes progress now: the write watchdog (idle reaper) closes the connection.
            await().atMost(Duration.ofSeconds(15)).until(() -> server.stats().idleClosed() == 1);
        }
    }

    @Test
    void tricklingConnectionsAreCappedAndReapedWhileANormalClientIsServed() throws Exception {
        int limit = 300;
        int tricklers = 3 * limit; // file descriptors: ~1,200 in this JVM, far below the 20,000 limit
        List<SocketChannel> slow = new ArrayList<>();
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).maxConnections(limit)
                .idleTimeout(Duration.ofSeconds(1)).drainTimeout(Duration.ZERO).start()) {
            for (int i = 0; i < tricklers; i++) {
                SocketChannel channel = SocketChannel.open(server.address());
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                channel.write(ByteBuffer.wrap(new byte[] {'x'})); // one byte, then silence
                slow.add(channel);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().rejected() + server.stats().accepted() >= tricklers);
            assertTrue(server.stats().active() <= limit, "active " + server.stats().active() + " beyond the limit");
            // The permit is decided on the accept path, so the flood never got a thread beyond the limit.
            assertTrue(ThreadDumps.countThreadsNamed("loom-echo-conn-") <= limit);

            // The idle timeout frees the slots; a normal client then gets its echo promptly.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> echoesOnce(server));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().idleClosed() >= limit - 1);
        } finally {
            for (SocketChannel channel : slow) {
                channel.close();
            }
        }
    }

    private static boolean echoesOnce(EchoServer server) {
        try (TestClient client = TestClient.connect(server)) {
            return client.echo(new byte[] {7}).length == 1;
        } catch (IOException rejected) {
            return false;
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
