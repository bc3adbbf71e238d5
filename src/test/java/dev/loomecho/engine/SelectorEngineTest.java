package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.awaitility.Awaitility.await;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.ServerConfig;
import dev.loomecho.TestClient;
import dev.loomecho.ThreadDumps;
import java.io.Closeable;
import java.lang.invoke.MethodHandles;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class SelectorEngineTest {

    @Test
    void servesFiveHundredConnectionsAtOnceOnItsSingleThread() throws Exception {
        int count = 500; // far past the seeds' 64-socket FD_SETSIZE / WSA_MAXIMUM_WAIT_EVENTS
        try (EchoServer server = EchoServer.builder().port(0).engine(Engine.SELECTOR).start()) {
            List<TestClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < count; i++) {
                    clients.add(TestClient.connect(server));
                }
                for (int i = 0; i < count; i++) {
                    clients.get(i).send(ByteBuffer.allocate(4).putInt(i).array()); // all in flight at once
                }
                for (int i = 0; i < count; i++) {
                    assertArrayEquals(ByteBuffer.allocate(4).putInt(i).array(), clients.get(i).readExactly(4));
                }
                assertEquals(count, server.stats().active());
                assertEquals(1, ThreadDumps.countThreadsNamed("loom-echo-selector"));
                assertEquals(0, ThreadDumps.countThreadsNamed("loom-echo-conn-"), "no thread per connection");
            } finally {
                for (TestClient client : clients) {
                    client.close();
                }
            }
        }
    }

    /**
     * Another thread (the idle reaper, the shutdown) may have won a connection's close and not yet closed
     * its channel when the selector thread ends the connection too, here at the peer's FIN: its own close
     * then returns at once, the channel still open and the key still valid. Before, the buffer went back to
     * the pool right then, and the next select found the key ready again (EOF stays readable) and read
     * into a buffer the pool could have handed on: a NullPointerException that ended the selector thread,
     * and every connection with it. The test stops the other thread's close between its two halves.
     */
    @Test
    void aConnectionWhoseCloseAnotherThreadHasBegunIsNeverSelectedOnceItsBufferIsBack() throws Exception {
        ServerConfig config = ServerConfig.builder().port(0).engine(Engine.SELECTOR).build();
        Connections connections = new Connections(config);
        SelectorEngine engine = new SelectorEngine(config, connections, null);
        InetSocketAddress address = engine.start();
        try {
            Connection closing;
            try (TestClient victim = new TestClient(address)) {
                assertArrayEquals(new byte[] {1}, victim.echo(new byte[] {1}));
                closing = connections.live().iterator().next();
                CloseHalves.begin(closing); // the other thread's compare-and-set, its channel.close() still to come
            } // the FIN: the selector thread reads EOF and ends the connection itself
            await().atMost(Duration.ofSeconds(10)).until(() -> connections.buffers().usage().bytesInUse() == 0);
            for (int i = 0; i < 20; i++) { // many selects, each of which would find the stale key ready again
                try (TestClient other = new TestClient(address)) {
                    assertArrayEquals(new byte[] {(byte) i}, other.echo(new byte[] {(byte) i}),
                            "round " + i + ": the selector thread must still serve new connections");
                }
            }
            CloseHalves.finish(closing, connections);
        } finally {
            connections.stopAdmitting();
            engine.stopAccepting();
            connections.closeAll();
            engine.awaitTermination();
            connections.buffers().close();
        }
        assertEquals(0, connections.active());
    }

    /** {@link Connection#closeOnce()} in its two halves, so a test can act between them as a slow closer would. */
    static final class CloseHalves {
        private CloseHalves() {
        }

        /** The compare-and-set that makes every later close a no-op. */
        static void begin(Connection connection) throws ReflectiveOperationException {
            MethodHandles.privateLookupIn(Connection.class, MethodHandles.lookup())
                    .findVarHandle(Connection.class, "closed", boolean.class).setVolatile(connection, true);
        }

        /** The rest: the channel's close, then the slot's release. */
        static void finish(Connection connection, Connections connections) throws Exception {
            Closeable channel = (Closeable) MethodHandles.privateLookupIn(Connection.class, MethodHandles.lookup())
                    .findVarHandle(Connection.class, "channel", Closeable.class).get(connection);
            channel.close();
            connections.release(connection);
        }
    }
}
