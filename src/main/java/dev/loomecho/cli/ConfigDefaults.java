package dev.loomecho.cli;

import dev.loomecho.ServerConfig;
import dev.loomecho.fault.FaultFlag;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Feeds picocli the defaults of {@link ServerConfig.Builder} as command-line text, so {@code --help}
 * shows {@code 60s} and {@code virtual} and there is still only one place that defines them.
 */
final class ConfigDefaults implements IDefaultValueProvider {

    private static final ServerConfig DEFAULTS = ServerConfig.defaults();

    private static final Map<String, String> BY_OPTION = byOption();

    private static Map<String, String> byOption() {
        Map<String, String> defaults = new HashMap<>(Map.ofEntries(
                Map.entry("--bind", DEFAULTS.bindAddress().getHostAddress()),
                Map.entry("--port", String.valueOf(DEFAULTS.port())),
                Map.entry("--engine", DEFAULTS.engine().cliName()),
                Map.entry("--max-connections", String.valueOf(DEFAULTS.maxConnections())),
                Map.entry("--idle-timeout", DurationConverter.format(DEFAULTS.idleTimeout())),
                Map.entry("--buffer-size", String.valueOf(DEFAULTS.bufferSize())),
                Map.entry("--drain-timeout", DurationConverter.format(DEFAULTS.drainTimeout())),
                Map.entry("--threads", String.valueOf(DEFAULTS.threads())),
                Map.entry("--metrics-port", String.valueOf(DEFAULTS.metricsPort())),
                Map.entry("--udp-port", String.valueOf(DEFAULTS.udp().port())),
                Map.entry("--udp-rate", String.valueOf(DEFAULTS.udp().ratePerSource())),
                Map.entry("--udp-burst", String.valueOf(DEFAULTS.udp().burst())),
                Map.entry("--udp-min-source-port", String.valueOf(DEFAULTS.udp().minSourcePort())),
                Map.entry("--udp-loop-limit", String.valueOf(DEFAULTS.udp().loopLimit())),
            Map.entry("--udp-blocked-ports", DEFAULTS.udp().blockedSourcePorts().stream()
                        .sorted().map(String::valueOf).collect(Collectors.joining(","))),
                Map.entry("--control-port", String.valueOf(DEFAULTS.controlPort()))));
        for (FaultFlag flag : FaultFlag.values()) {
            defaults.put(flag.flag(), String.valueOf(flag.value(DEFAULTS.faults())));
        }
        return Map.copyOf(defaults);
    }

    @Override
    public String defaultValue(ArgSpec argSpec) {
        return argSpec instanceof OptionSpec option ? BY_OPTION.get(option.longestName()) : null;
    }
}
