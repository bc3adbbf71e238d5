package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.loomecho.ServerConfig;
import dev.loomecho.Stats;
import java.io.Closeable;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jdk.jfr.Recording;
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

    /**
     * Out of heap after the slot and the buffer are taken: here at the JFR "opened" event, which describes
     * the peer's address (a counter's cell or the live set's node could fail the same way). The admission
     * must leave nothing behind: no slot, no buffer, no live entry, no open channel, no count of it as
     * accepted.
     */
    @Test
    void anAdmissionThatRunsOutOfHeapAtItsOpenedEventLeavesNothingBehind() {
        Connections connections = new Connections(ServerConfig.builder().maxConnections(1).build());
        FakeChannel channel = new FakeChannel();
        try (Recording recording = new Recording()) {
            recording.enable("dev.loomecho.ConnectionOpened");
            recording.start();
            assertNull(admitReturningNormally(connections, channel, new NoRoomToDescribeTheAddress()));
        }
        assertTrue(channel.closed, "the refused channel is closed");
        assertEquals(0, connections.active());
        assertEquals(0, connections.buffers().usage().bytesInUse(), "the buffer went back");
        Stats stats = connections.snapshot(0, 0);
        assertEquals(0, stats.accepted());
        assertEquals(1, stats.rejected());
        assertNotNull(connections.admit(new FakeChannel(), null), "the only slot was not given back");
    }

    /** The close's JFR "closed" event, out of heap the same way: the slot still comes back. */
    @Test
    void aCloseThatRunsOutOfHeapAtItsClosedEventGivesTheSlotBack() {
        Connections connections = new Connections(ServerConfig.builder().maxConnections(1).build());
        FakeChannel channel = new FakeChannel();
        Connection connection = connections.admit(channel, new NoRoomToDescribeTheAddress());
        try (Recording recording = new Recording()) {
            recording.enable("dev.loomecho.ConnectionClosed");
            recording.start();
            try {
                connection.close();
            } catch (OutOfMemoryError escaped) {
                fail("close() let the event's OutOfMemoryError out: " + escaped.getMessage());
            }
        }
        connection.readBuffer().release();
        assertTrue(channel.closed);
        assertEquals(0, connections.active());
        assertNotNull(connections.admit(new FakeChannel(), null), "the only slot was not given back");
    }

    /** Caught here: JUnit and Surefire treat an OutOfMemoryError as the end of the test JVM, not a failure. */
    private static Connection admitReturningNormally(Connections connections, Closeable channel, SocketAddress remote) {
        try {
            return connections.admit(channel, remote);
        } catch (OutOfMemoryError escaped) {
            return fail("admit() let an OutOfMemoryError out, holding the slot and the buffer: " + escaped.getMessage());
        }
    }

    /** A peer address whose description does not fit in the heap. */
    private static final class NoRoomToDescribeTheAddress extends SocketAddress {
        @Override
        public String toString() {
            throw new OutOfMemoryError("no room for the address");
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
