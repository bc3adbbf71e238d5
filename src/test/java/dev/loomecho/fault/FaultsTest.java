package dev.loomecho.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class FaultsTest {

    @Test
    void theSelectorEngineRefusesFaultsWithAClearReason() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                EchoServer.builder().port(0).engine(Engine.SELECTOR).faults(Faults.NONE.withCloseAfter(1)).build());
        assertTrue(e.getMessage().contains("not selector"), e.getMessage());
        try (EchoServer server = EchoServer.builder().port(0).engine(Engine.SELECTOR).start()) {
            assertThrows(IllegalArgumentException.class, () -> server.faults(Faults.NONE.withCloseAfter(1)));
        }
    }

    @Test
    void jitterCannotExceedTheLatency() {
        assertThrows(IllegalArgumentException.class,
                () -> Faults.NONE.withLatency(Duration.ofMillis(10), Duration.ofMillis(20)));
    }

    @Test
    void aMalformedFaultFlagExitsTwoNamingTheFlag() {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertEquals(2, cli.execute("serve", "--port", "0", "--latency", "fast"));
        assertTrue(err.toString().contains("--latency takes N or N:M"), err.toString());
    }

    @Test
    void noneIsRecognisedAfterBeingRebuilt() {
        assertTrue(Faults.NONE.withCloseAfter(5).withCloseAfter(-1).isNone());
    }
}
