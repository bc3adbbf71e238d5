package dev.loomecho.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code loom-echo [serve|client|load|models] ...}. With no subcommand it serves on the defaults, so
 * {@code java -jar loom-echo.jar} alone starts a server.
 */
@Command(name = "loom-echo",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "A TCP echo server (RFC 862) showing how virtual threads replace the Winsock I/O models.",
        subcommands = {Serve.class, Client.class, Load.class, Models.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        return spec.commandLine().getSubcommands().get("serve").execute();
    }

    /** The command line, configured the same way for {@code main} and for tests. */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true); // --driver selector
    }

    public static void main(String[] args) {
        LogDefaults.apply();
        HttpServerDefaults.apply();
        System.exit(commandLine().execute(args));
    }
}
