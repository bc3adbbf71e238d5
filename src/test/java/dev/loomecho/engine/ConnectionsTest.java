package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.ServerConfig;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ConnectionsTest {

    private static Connections connections() {
        return new Connections(ServerConfig.builder().maxConnections(1_000_000).build());
    }

    @Test
    void admitsNothingOnceStoppingHasBegunAndLeavesWhatIsOpenToTheDrain() {
        Connections connections = connections();
        FakeChannel early = new FakeChannel();
        assertNotNull(connections.admit(early, null));

        connections.stopAdmitting();
        FakeChannel late = new FakeChannel();
        assertNull(connections.admit(late, null), "admitted after stopping began");
        assertTrue(late.closed, "a refused channel is closed at once");
        assertFalse(early.closed, "the drain lets open connections finish");
        assertEquals(1, connections.active());

        connections.closeAll();
        assertTrue(early.closed);
        assertEquals(0, connections.active());
    }

    @Test
    void closeAllLeavesNothingOpenWhateverAdmissionsRaceIt() throws Exception {
        for (int round = 0; round < 200; round++) {
            Connections connections = connections();
            List<FakeChannel> admitted = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch admitting = new CountDownLatch(2);
            List<Thread> admitters = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                admitters.add(Thread.ofPlatform().name("test-admitter-" + i).start(() -> {
                    admitting.countDown();
                    for (int n = 0; n < 100_000; n++) { // bounded: on a broken closeAll nothing refuses them
                        FakeChannel channel = new FakeChannel();
                        if (connections.admit(channel, null) == null) {
                            return; // refused: the shutdown has begun
                        }
                        admitted.add(channel);
                    }
                }));
            }
            admitting.await();
            connections.closeAll();
            for (Thread admitter : admitters) {
                admitter.join();
            }
            assertEquals(0, connections.active(), "round " + round + ": connections admitted behind closeAll()");
            int round0 = round;
            admitted.forEach(channel -> assertTrue(channel.closed, "round " + round0 + ": an admitted channel stayed open"));
        }
    }

    private static final class FakeChannel implements Closeable {
        volatile boolean closed;

        @Override
        public void close() {
            closed = true;
        }
    }
}
