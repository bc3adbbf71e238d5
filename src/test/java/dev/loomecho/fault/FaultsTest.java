package dev.loomecho.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    void toxicityIsAShareAndReadBandwidthIsNotNegative() {
        assertThrows(IllegalArgumentException.class, () -> Faults.NONE.withToxicity(1.5));
        assertThrows(IllegalArgumentException.class, () -> Faults.NONE.withToxicity(-0.1));
        assertThrows(IllegalArgumentException.class, () -> Faults.NONE.withToxicity(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Faults.NONE.withReadBandwidth(-1));
        assertEquals(0.25, Faults.NONE.withToxicity(0.25).toxicity());
    }

    @Test
    void everyFaultReadsBackTheValueItWrites() {
        Faults faults = Faults.NONE.withLatency(Duration.ofMillis(200), Duration.ofMillis(20)).withBandwidth(1000)
                .withSlicing(3, Duration.ofMillis(5)).withCloseAfter(4096).withResetAfter(8192).withStallAfter(0)
                .withReadBandwidth(500).withToxicity(0.75);
        Faults parsed = Faults.NONE;
        for (FaultFlag flag : FaultFlag.values()) {
            parsed = flag.apply(parsed, String.valueOf(flag.value(faults)), flag.key());
        }
        assertEquals(faults, parsed);
        assertEquals("200:20", FaultFlag.LATENCY.value(faults));
        assertEquals("3:5", FaultFlag.SLICE.value(faults));
        assertEquals("0", FaultFlag.LATENCY.value(Faults.NONE), "no :0 for a part that is off");
    }

    @Test
    void theCliAndTheJsonKeysShareOneGrammarAndItsMessages() {
        IllegalArgumentException json = assertThrows(IllegalArgumentException.class,
                () -> FaultFlag.forKey("slice").orElseThrow().apply(Faults.NONE, "3:x", "slice"));
        assertEquals("slice takes N or N:M with whole numbers >= 0, was '3:x'", json.getMessage());
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertEquals(2, cli.execute("serve", "--port", "0", "--slice", "3:x"));
        assertTrue(err.toString().contains("--slice takes N or N:M with whole numbers >= 0, was '3:x'"), err.toString());
        assertEquals(2, cli.execute("serve", "--port", "0", "--toxicity", "1.5"));
        assertTrue(err.toString().contains("--toxicity takes a share from 0 to 1"), err.toString());
        assertEquals(2, cli.execute("serve", "--port", "0", "--read-bandwidth", "-5"));
        assertTrue(err.toString().contains("--read-bandwidth takes a whole number of bytes, was '-5'"), err.toString());
        assertTrue(FaultFlag.forKey("--latency").isEmpty(), "keys have no dashes");
    }

    @Test
    void noneIsRecognisedAfterBeingRebuilt() {
        assertTrue(Faults.NONE.withCloseAfter(5).withCloseAfter(-1).isNone());
    }

    @Test
    void aToxicityAloneInjectsNothingSoEveryEngineTakesIt() throws IOException {
        Faults shareOnly = Faults.NONE.withToxicity(0.5);
        assertTrue(shareOnly.isNone(), "a share of connections that get no fault is no fault");
        try (EchoServer server = EchoServer.builder().port(0).engine(Engine.SELECTOR).faults(shareOnly).start()) {
            assertEquals(shareOnly, server.faults(), "kept as set, so GET /faults shows it");
            assertFalse(Faults.NONE.withToxicity(0.5).withCloseAfter(1).isNone());
        }
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        assertEquals(0, cli.execute("serve", "--engine", "selector", "--toxicity", "0.5", "--help"));
    }

    @Test
    void faultDelaysAreBoundedToAnHourWithAReasonNamingTheFlag() {
        assertEquals(Duration.ofHours(1), Faults.MAX_DELAY);
        Faults.NONE.withLatency(Faults.MAX_DELAY, Faults.MAX_DELAY).withSlicing(1, Faults.MAX_DELAY); // the bound itself is fine
        assertThrows(IllegalArgumentException.class, () -> Faults.NONE.withLatency(Faults.MAX_DELAY.plusMillis(1), Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Faults.NONE.withSlicing(1, Faults.MAX_DELAY.plusMillis(1)));
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertEquals(2, cli.execute("serve", "--port", "0", "--latency", "9300000000000000"));
        assertTrue(err.toString().contains("--latency takes at most 3600000 ms (1 hour), was '9300000000000000'"), err.toString());
        assertEquals(2, cli.execute("serve", "--port", "0", "--latency", "3600000:3600001"));
        assertEquals(2, cli.execute("serve", "--port", "0", "--slice", "10:3600001"));
        assertTrue(err.toString().contains("--slice takes at most 3600000 ms (1 hour)"), err.toString());
        assertEquals(2, cli.execute("serve", "--port", "0", "--latency", "99999999999999999999"), "beyond a long");
    }

    @Test
    void valuesFollowTheDocumentedGrammarExactly() {
        for (String[] bad : new String[][] {
                {"toxicity", "0x1p-1"}, {"toxicity", "0.5d"}, {"toxicity", "0.5f"}, {"toxicity", "+0.5"},
                {"toxicity", "NaN"}, {"toxicity", "Infinity"}, {"toxicity", "1."}, {"latency", "+5"},
                {"latency", "5:+1"}, {"latency", "5 : 1"}, {"latency", "5:"}, {"close-after", "+5"},
                {"close-after", "0x10"}, {"bandwidth", "1_000"}, {"slice", "3:5:7"}, {"read-bandwidth", "1e3"}}) {
            FaultFlag flag = FaultFlag.forKey(bad[0]).orElseThrow();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> flag.apply(Faults.NONE, bad[1], bad[0]), bad[0] + " " + bad[1]);
            assertTrue(e.getMessage().startsWith(bad[0] + " takes "), e.getMessage());
        }
        assertEquals(0.5, FaultFlag.TOXICITY.apply(Faults.NONE, ".5", "toxicity").toxicity());
        assertEquals(1e-4, FaultFlag.TOXICITY.apply(Faults.NONE, "1.0E-4", "toxicity").toxicity(), "as Double.toString writes it");
        assertEquals(0.5, FaultFlag.TOXICITY.apply(Faults.NONE, "5E-1", "toxicity").toxicity());
        assertEquals(Duration.ofMillis(5), FaultFlag.LATENCY.apply(Faults.NONE, " 5 ", "latency").latency(), "trimmed");
        assertEquals(-1, FaultFlag.CLOSE_AFTER.apply(Faults.NONE, "-1", "close-after").closeAfter());
    }
}
