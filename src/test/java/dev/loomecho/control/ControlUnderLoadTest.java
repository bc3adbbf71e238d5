package dev.loomecho.control;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.TestClient;
import dev.loomecho.fault.Faults;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Faults changed over HTTP while clients echo: each change applies from a connection's next echo, so
 * an echo in flight finishes under the faults it started with and no byte is lost, reordered or doubled.
 */
@Timeout(120)
class ControlUnderLoadTest {

    private static final int CLIENTS = 6;
    private static final int CHANGES = 36;
    /** Faults that delay, split and pace the echo but never end it, so every echo must come back whole. */
    private static final List<String> BODIES = List.of(
            "{\"latency\": \"3:2\"}",
            "{\"slice\": \"7\"}",
            "{\"bandwidth\": 4000000, \"slice\": \"1000:1\"}",
            "{\"read-bandwidth\": 4000000}",
            "{\"toxicity\": 0.5, \"latency\": 2, \"slice\": 333}",
            "{\"latency\": 1, \"slice\": \"100\", \"read-bandwidth\": 8000000, \"bandwidth\": 8000000}");

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"VIRTUAL", "FUTURE", "COMPLETION"})
    void changingFaultsUnderLoadCorruptsNoEcho(Engine engine) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong verified = new AtomicLong();
        AtomicLong corrupted = new AtomicLong();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).controlPort(0).seed(13)
                .drainTimeout(Duration.ZERO).start();
             ControlClient control = new ControlClient(server.controlAddress().orElseThrow())) {
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                long seed = i;
                clients.add(Thread.ofVirtual().name("load-client-" + i).start(() -> {
                    Random random = new Random(seed);
                    try {
                        while (!stop.get()) {
                            // A fresh connection now and then, so toxicity is chosen anew under changing faults.
                            try (TestClient client = TestClient.connect(server)) {
                                for (int echo = 0; echo < 20 && !stop.get(); echo++) {
                                    byte[] payload = TestClient.randomBytes(1 + random.nextInt(16 * 1024), random.nextLong());
                                    (Arrays.equals(payload, client.echo(payload)) ? verified : corrupted).incrementAndGet();
                                }
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }

            for (int change = 0; change < CHANGES && failures.isEmpty(); change++) {
                int status = change % 3 == 2 ? control.delete("/faults").statusCode()
                        : control.put("/faults", BODIES.get(change % BODIES.size())).statusCode();
                assertEquals(200, status);
                long before = verified.get();
                // Let traffic flow under each setting before the next change.
                await().atMost(Duration.ofSeconds(20)).until(() -> verified.get() >= before + CLIENTS || !failures.isEmpty());
            }
            assertEquals(200, control.delete("/faults").statusCode());
            assertEquals(Faults.NONE, server.faults());
            stop.set(true);
            for (Thread client : clients) {
                client.join(Duration.ofSeconds(30));
            }
        }
        assertTrue(failures.isEmpty(), "a client failed: " + failures.peek());
        assertEquals(0, corrupted.get(), "corrupted or short echoes, of " + (verified.get() + corrupted.get()));
        assertTrue(verified.get() >= CHANGES * CLIENTS, "only " + verified.get() + " echoes verified");
    }
}
