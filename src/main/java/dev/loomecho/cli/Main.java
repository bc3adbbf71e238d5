package dev.loomecho.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code loom-echo [serve|client|load|models] ...}. Without a command it serves, with whatever serve
 * options follow: {@code java -jar loom-echo.jar} alone starts a server, and so does
 * {@code java -jar loom-echo.jar --port 0}. Options before a command are refused (exit 2).
 */
@Command(name = "loom-echo",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        customSynopsis = {"loom-echo [serve] [SERVE OPTIONS]   (serve is the default command)",
                "loom-echo client|load|models [OPTIONS]",
                "loom-echo [COMMAND] --help | --version"},
        description = "A TCP echo server (RFC 862) showing how virtual threads replace the Winsock I/O models.",
        subcommands = {Serve.class, Client.class, Load.class, Models.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {

    /** The slf4j-simple levels {@code --log-level} offers. */
    enum LogLevel { ERROR, WARN, INFO, DEBUG }

    @Spec
    CommandSpec spec;

    /** Serve options given without the {@code serve} command; passed on to it. */
    @Unmatched
    List<String> serveArguments = new ArrayList<>();

    /**
     * Every command takes it. It only sets slf4j-simple's default level, which slf4j-simple reads when the
     * first logger is made: nothing logs while the command line is parsed, so the level is set in time.
     */
    @Option(names = "--log-level", paramLabel = "LEVEL", scope = ScopeType.INHERIT,
            description = "Log level: error, warn, info (the default) or debug.")
    void logLevel(LogLevel level) {
        LogDefaults.level(level.name().toLowerCase(Locale.ROOT));
    }

    @Override
    public Integer call() {
        if (!serveArguments.isEmpty() && !serveArguments.getFirst().startsWith("-")) {
            throw new ParameterException(spec.commandLine(), "unknown command '" + serveArguments.getFirst()
                    + "'; the commands are " + String.join(", ", spec.subcommands().keySet()));
        }
        return spec.commandLine().getSubcommands().get("serve").execute(serveArguments.toArray(String[]::new));
    }

    /** The command line, configured the same way for {@code main} and for tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true) // --driver selector, --log-level warn
                .setParameterExceptionHandler(Main::usageError);
        // Subcommands inherit the parser settings, @Unmatched's too; only the top level passes unknowns on.
        cli.getSubcommands().values().forEach(command -> command.setUnmatchedArgumentsAllowed(false));
        cli.setExecutionStrategy(parsed -> {
            refuseOptionsBeforeACommand(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        return cli;
    }

    /**
     * {@code loom-echo --port 0 load ...}: the top level passes what it does not know on to serve, and
     * picocli still finds the command after it, so the options would be dropped without a word (and
     * {@code --port 9000 serve} serve on 7007). Refused instead, saying where they go.
     */
    private static void refuseOptionsBeforeACommand(CommandLine.ParseResult parsed) {
        // The strategy is the subcommands' too (picocli passes it on), and call() runs serve through it.
        // The parse result's own list: picocli leaves @Unmatched empty when the command is help.
        if (parsed.commandSpec().userObject() instanceof Main && parsed.hasSubcommand() && !parsed.unmatched().isEmpty()) {
            String command = parsed.subcommand().commandSpec().name();
            String options = String.join(" ", parsed.unmatched());
            throw new ParameterException(parsed.commandSpec().commandLine(), "'" + options + "' comes before the command '"
                    + command + "': options go after their command, as in 'loom-echo " + command + " " + options + "'");
        }
    }

    /**
     * A wrong flag or value: its reason, one usage line and where the full help is; exit 2. The whole
     * usage (over a hundred lines for serve) would push the reason off the screen.
     */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        String name = command.getCommandSpec().qualifiedName();
        String reason = e.getMessage();
        if (e instanceof UnmatchedArgumentException unmatched && !unmatched.getSuggestions().isEmpty()) {
            reason += " (did you mean " + String.join(" or ", unmatched.getSuggestions()) + "?)";
        }
        err.println(name + ": " + reason);
        err.println("Usage: " + name + (command.getSubcommands().isEmpty() ? "" : " [COMMAND]") + " [OPTIONS]"
                + "; see '" + name + " --help'");
        err.flush();
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }

    public static void main(String[] args) {
        LogDefaults.apply();
        HttpServerDefaults.apply();
        System.exit(commandLine().execute(args));
    }
}
