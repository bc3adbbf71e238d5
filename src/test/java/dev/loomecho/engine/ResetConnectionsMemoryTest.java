package dev.loomecho.engine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.Stats;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A reset connection's buffer on the asynchronous engines: the peer resets while the server's read is
 * pending, the read fails, and the JDK (Linux, JDK 21 to 25) keeps its hold on the buffer's arena for
 * good. Before, the trim a second later failed to free it and dropped it all the same: its native memory
 * stayed allocated, unreachable and uncounted, and the next connection allocated another — direct memory
 * grew by a buffer per reset while {@link Stats} said the pool held nothing. Now the pool keeps it,
 * counted, and hands it to the next connection, so what the JVM holds is what the pool reports.
 */
@Timeout(120)
class ResetConnectionsMemoryTest {

    private static final int KIB_64 = 64 * 1024;
    /** Direct memory beside the pool's and the client's buffers (none is expected: no I/O here needs a temporary buffer). */
    private static final long SLACK = 16 * 1024;

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"COMPLETION", "FUTURE"})
    void theMemoryOfResetConnectionsIsReusedAndCountedNotLost(Engine engine) throws Exception {
        assumeFalse(DirectMemory.best() instanceof DirectMemory.UnsafeMemory, "only an arena can be held by the JDK");
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).bufferSize(KIB_64).start()) {
            // the client's buffers are direct too (so that its I/O needs no temporary ones): made before the baseline
            ByteBuffer out = ByteBuffer.allocateDirect(4 * KIB_64);
            ByteBuffer in = ByteBuffer.allocateDirect(4 * KIB_64);
            long outsideThePool = unaccounted(server.stats());
            for (int round = 0; round < 3; round++) {
                try (SocketChannel client = SocketChannel.open(server.address())) {
                    echoSoTheBufferGrows(client, out.clear(), in.clear());
                    client.setOption(StandardSocketOptions.SO_LINGER, 0); // the close is a reset
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().active() == 0);
                int r = round;
                // two trims, a second apart, find the buffer unused: before, the second lost it
                await().during(Duration.ofMillis(2_500)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    Stats stats = server.stats();
                    long lost = unaccounted(stats) - outsideThePool;
                    assertTrue(lost <= SLACK, "round " + r + ": the JVM holds " + lost + " B of direct memory more than "
                            + "the pool reports (in use " + stats.bufferBytesInUse() + " B, pooled "
                            + stats.bufferBytesPooled() + " B)");
                });
            }
        }
    }

    /** 64 KiB and its echo: every read fills the buffer, which doubles each time, up to 64 KiB. */
    private static void echoSoTheBufferGrows(SocketChannel client, ByteBuffer out, ByteBuffer in) throws IOException {
        while (out.hasRemaining()) {
            client.write(out);
        }
        while (in.hasRemaining()) {
            if (client.read(in) < 0) {
                throw new IOException("the server closed after " + in.position() + " bytes");
            }
        }
        assertEquals(out.flip(), in.flip());
    }

    /** Direct memory the JVM has reserved that the pool does not count as its own. */
    private static long unaccounted(Stats stats) {
        long reserved = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow().getMemoryUsed();
        return reserved - stats.bufferBytesInUse() - stats.bufferBytesPooled();
    }
}
