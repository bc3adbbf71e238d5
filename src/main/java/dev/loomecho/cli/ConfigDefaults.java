package dev.loomecho.cli;

import dev.loomecho.ServerConfig;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Feeds picocli the defaults of {@link ServerConfig.Builder} as command-line text, so {@code --help}
 * shows {@code 60s} and {@code virtual} and there is still only one place that defines them.
 */
final class ConfigDefaults implements IDefaultValueProvider {

    private static final ServerConfig DEFAULTS = ServerConfig.defaults();

    private static final Map<String, String> BY_OPTION = Map.of(
            "--bind", DEFAULTS.bindAddress().getHostAddress(),
            "--port", String.valueOf(DEFAULTS.port()),
            "--engine", DEFAULTS.engine().cliName(),
            "--max-connections", String.valueOf(DEFAULTS.maxConnections()),
            "--idle-timeout", DurationConverter.format(DEFAULTS.idleTimeout()),
            "--buffer-size", String.valueOf(DEFAULTS.bufferSize()),
            "--drain-timeout", DurationConverter.format(DEFAULTS.drainTimeout()),
            "--threads", String.valueOf(DEFAULTS.threads()));

    @Override
    public String defaultValue(ArgSpec argSpec) {
        return argSpec instanceof OptionSpec option ? BY_OPTION.get(option.longestName()) : null;
    }
}
