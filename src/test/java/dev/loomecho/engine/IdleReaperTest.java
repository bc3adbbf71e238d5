package dev.loomecho.engine;

import static org.awaitility.Awaitility.await;

import dev.loomecho.ServerConfig;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class IdleReaperTest {

    @Test
    void aCloseThatThrowsStillFreesItsSlotAndTheReapingGoesOn() {
        Connections connections = new Connections(ServerConfig.defaults());
        connections.admit(() -> {
            throw new IllegalStateException("close failed");
        }, null);
        try (IdleReaper reaper = new IdleReaper(connections, Duration.ofMillis(50))) {
            await().atMost(Duration.ofSeconds(5)).until(() -> connections.active() == 0); // its slot is released

            AtomicBoolean closed = new AtomicBoolean();
            connections.admit(() -> closed.set(true), null);
            await().atMost(Duration.ofSeconds(5)).untilTrue(closed); // and the sweeper still runs
        }
    }
}
