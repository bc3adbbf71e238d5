package dev.loomecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void helpListsTheServeOptionsAndExitsZero() {
        assertEquals(0, run("serve", "--help"));
        String help = out.toString();
        for (String option : new String[] {"--port", "--bind", "--engine", "--max-connections", "--idle-timeout",
                "--buffer-size", "--drain-timeout"}) {
            assertTrue(help.contains(option), "help lacks " + option + ":\n" + help);
        }
        assertTrue(help.contains("Default: 7007"), help);
    }

    @Test
    void theHttpServersLimitsAreDefaultsThatAUsersDashDWins() {
        java.util.Properties properties = new java.util.Properties();
        properties.setProperty("sun.net.httpserver.maxReqTime", "30");
        HttpServerDefaults.apply(properties);
        assertEquals("30", properties.getProperty("sun.net.httpserver.maxReqTime"), "the user's own setting stays");
        assertEquals("64", properties.getProperty("jdk.httpserver.maxConnections"));
        assertEquals("10", properties.getProperty("sun.net.httpserver.idleInterval"));
        assertEquals("64", properties.getProperty("sun.net.httpserver.maxReqHeaders"));
    }

    @Test
    void versionPrintsTheProjectVersion() {
        assertEquals(0, run("--version"));
        assertTrue(out.toString().startsWith("loom-echo "), out.toString());
    }

    @Test
    void anUnknownFlagPrintsTheReasonAndUsageAndExitsTwo() {
        assertEquals(2, run("serve", "--no-such-flag"));
        assertTrue(err.toString().contains("Unknown option: '--no-such-flag'"), err.toString());
        assertTrue(err.toString().contains("Usage: loom-echo serve"), err.toString());
    }

    @Test
    void aValueOutOfRangeNamesTheFlagAndExitsTwo() {
        assertEquals(2, run("serve", "--port", "70000"));
        assertTrue(err.toString().contains("port must be 0..65535"), err.toString());
    }

    @Test
    void anUnknownEngineListsTheValidOnesAndExitsTwo() {
        assertEquals(2, run("serve", "--engine", "iocp"));
        assertTrue(err.toString().contains("virtual"), err.toString());
    }

    @Test
    void aTimeoutTooLongToCountExitsTwoBeforeAnythingStarts() {
        assertEquals(2, run("serve", "--port", "0", "--idle-timeout", "3000000h")); // 342 years
        assertTrue(err.toString().contains("idle-timeout must be at most 292 years"), err.toString());
        assertEquals(2, run("serve", "--port", "0", "--drain-timeout", "3000000h"));
        assertTrue(err.toString().contains("drain-timeout must be at most 292 years"), err.toString());
    }

    @Test
    void aMalformedDurationExitsTwo() {
        assertEquals(2, run("serve", "--idle-timeout", "soon"));
        assertTrue(err.toString().contains("'soon' is not a duration"), err.toString());
    }
}
