package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

class ServerConfigTest {

    private static final Duration THREE_HUNDRED_YEARS = ChronoUnit.YEARS.getDuration().multipliedBy(300);

    @Test
    void refusesAnIdleTimeoutTooLongToCountBeforeAnythingStarts() {
        for (Duration tooLong : new Duration[] {THREE_HUNDRED_YEARS, ChronoUnit.FOREVER.getDuration()}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ServerConfig.builder().idleTimeout(tooLong).build());
            assertTrue(e.getMessage().startsWith("idle-timeout must be at most 292 years"), e.getMessage());
        }
    }

    @Test
    void refusesADrainTimeoutTooLongToCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.builder().drainTimeout(THREE_HUNDRED_YEARS).build());
        assertTrue(e.getMessage().startsWith("drain-timeout must be at most 292 years"), e.getMessage());
    }

    @Test
    void acceptsTheLongestCountableTimeouts() {
        ServerConfig config = ServerConfig.builder()
                .idleTimeout(ServerConfig.MAX_DURATION).drainTimeout(ServerConfig.MAX_DURATION).build();
        assertEquals(Long.MAX_VALUE, config.idleTimeout().toNanos());
    }

    @Test
    void anIdleTimeoutOfZeroMeansNoneAndStartsNoReaper() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).idleTimeout(Duration.ZERO).start();
             TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {4, 2}, client.echo(new byte[] {4, 2}));
            assertTrue(Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith("loom-echo-idle-reaper")), "nothing would ever close an idle connection");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.builder().idleTimeout(Duration.ofNanos(1)).build());
        assertEquals("idle-timeout must be 0 (none) or at least 1ms, was PT0.000000001S", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().idleTimeout(Duration.ofSeconds(-1)).build());
    }
}
