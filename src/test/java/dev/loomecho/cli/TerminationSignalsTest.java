package dev.loomecho.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.loomecho.EchoServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;

/** The signal handlers inside this JVM; {@code close()} puts the test JVM's own back. */
class TerminationSignalsTest {

    /**
     * {@code serve} calls {@code started} from {@code beforeReady}: if it only began the close on another
     * thread, {@code ready} could flip first and {@code /ready} answer 200 for a moment.
     */
    @Test
    void aSignalDuringTheStartHasTheServerClosingWhenStartedReturns() throws Exception {
        try (TerminationSignals signals = TerminationSignals.install()) {
            Signal.raise(new Signal("TERM")); // handled by ours now, the JVM goes on
            await().atMost(Duration.ofSeconds(10)).until(() -> signals.stoppedBy().equals("SIGTERM"));
            try (EchoServer server = EchoServer.start(EchoServer.builder().port(0).build(), started -> {
                signals.started(started);
                assertFalse(started.accepting(), "still accepting when started() returned, before ready");
            })) {
                assertFalse(server.accepting());
            }
        }
    }
}
