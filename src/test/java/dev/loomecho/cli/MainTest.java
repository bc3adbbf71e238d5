package dev.loomecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** --log-level sets slf4j-simple's default level; this JVM's tests keep theirs. */
    private final String logLevel = System.getProperty(LEVEL_PROPERTY);
    private static final String LEVEL_PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";

    @AfterEach
    void restoreTheLogLevel() {
        if (logLevel == null) {
            System.clearProperty(LEVEL_PROPERTY);
        } else {
            System.setProperty(LEVEL_PROPERTY, logLevel);
        }
    }

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
    void anUnknownFlagPrintsTheReasonOneUsageLineAndWhereTheHelpIsAndExitsTwo() {
        assertEquals(2, run("serve", "--no-such-flag"));
        assertEquals(List.of("loom-echo serve: Unknown option: '--no-such-flag'",
                "Usage: loom-echo serve [OPTIONS]; see 'loom-echo serve --help'"), err.toString().lines().toList());
    }

    @Test
    void everyUsageErrorIsItsReasonAndOneUsageLine() {
        String[][] mistakes = {
            {"serve", "--port", "70000"}, {"serve", "--engine", "iocp"}, {"serve", "--idle-timeout", "soon"},
            {"serve", "--engine", "selector", "--latency", "5"}, {"load", "--connections", "many"},
            {"client", "--nope"}, {"bogus"}, {"--log-level", "loud"}, {"serve", "--port"}};
        for (String[] mistake : mistakes) {
            err.getBuffer().setLength(0);
            assertEquals(2, run(mistake), String.join(" ", mistake));
            List<String> lines = err.toString().lines().toList();
            assertEquals(2, lines.size(), String.join(" ", mistake) + ":\n" + err);
            assertTrue(lines.get(1).startsWith("Usage: loom-echo") && lines.get(1).endsWith(" --help'"), lines.get(1));
        }
    }

    @Test
    void serveOptionsWithoutTheServeCommandGoToServe() {
        assertEquals(2, run("--port", "70000")); // as `loom-echo --port 0` would serve: the same parser
        assertTrue(err.toString().startsWith("loom-echo serve: port must be 0..65535"), err.toString());
    }

    @Test
    void serveOptionsBeforeAnotherCommandAreRefusedInsteadOfDropped() {
        // --help and models keep the broken parse harmless: it would run them, or serve on the default port.
        String[][] misplaced = {
            {"--port", "0", "load", "--help"}, {"--port", "9000", "serve", "--help"}, {"--engine", "selector", "client", "--help"},
            {"--metrics-port", "9090", "models"}, {"--udp", "help"}};
        for (String[] args : misplaced) {
            err.getBuffer().setLength(0);
            out.getBuffer().setLength(0);
            assertEquals(2, run(args), String.join(" ", args) + ":\n" + out);
            List<String> lines = err.toString().lines().toList();
            assertEquals(2, lines.size(), String.join(" ", args) + ":\n" + err);
            assertEquals("Usage: loom-echo [COMMAND] [OPTIONS]; see 'loom-echo --help'", lines.get(1));
        }
        err.getBuffer().setLength(0);
        run("--port", "0", "load", "-m", "1");
        assertEquals("loom-echo: '--port 0' comes before the command 'load': options go after their command, "
                + "as in 'loom-echo load --port 0'", err.toString().lines().findFirst().orElseThrow());
    }

    @Test
    void anUnknownCommandIsNamedWithTheCommandsThereAre() {
        assertEquals(2, run("srve"));
        assertTrue(err.toString().startsWith("loom-echo: unknown command 'srve'; the commands are serve, client, load, models"),
                err.toString());
    }

    @Test
    void theSelectorRefusesFaultsNamingEveryEngineThatTakesThem() {
        assertEquals(2, run("serve", "--engine", "selector", "--latency", "5"));
        assertTrue(err.toString().contains("(virtual, platform, completion or future), not selector"), err.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, run("serve", "--engine", "completion", "--reset-after", "5"));
        assertTrue(err.toString().contains("use virtual or platform, not completion"), err.toString());
    }

    @Test
    void theLogLevelIsOneOfFourAndEveryCommandTakesIt() {
        assertEquals(2, run("serve", "--log-level", "loud"));
        assertTrue(err.toString().contains("expected one of [ERROR, WARN, INFO, DEBUG]"), err.toString());
        for (String command : new String[] {"serve", "client", "load", "models"}) {
            assertEquals(0, run(command, "--log-level", "debug", "--help"), command);
            assertTrue(out.toString().contains("--log-level=LEVEL"), command);
        }
    }

    @Test
    void anIdleTimeoutOfZeroIsAcceptedAsNone() {
        assertEquals(Duration.ZERO, new DurationConverter().convert("0"));
        assertEquals(0, run("serve", "--idle-timeout", "0", "--help"));
        assertTrue(out.toString().contains("0 = never"), out.toString());
    }

    @Test
    void theHelpsSynopsisShowsServeAsTheDefault() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().startsWith("Usage: loom-echo [serve] [SERVE OPTIONS]"), out.toString());
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
