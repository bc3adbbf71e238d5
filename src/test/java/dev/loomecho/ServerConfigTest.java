package dev.loomecho;

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
}
