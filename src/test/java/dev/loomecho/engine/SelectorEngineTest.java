package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.TestClient;
import dev.loomecho.ThreadDumps;
import java.nio.ByteBuffer;
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
}
