package dev.loomecho.fault;

import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The faults by name, and the one grammar of their values: the command line's flags
 * ({@code --latency 200:20}) and the control API's JSON keys ({@code "latency": "200:20"}) both parse
 * through {@link #apply}, and {@link #value} writes a setting back in the form {@code apply} reads.
 *
 * <p>The grammar, exactly: {@code N} and {@code N:M} are decimal digits (delays in milliseconds, at most
 * {@link Faults#MAX_DELAY}); thresholds are digits or {@code -1}; a share is a decimal from 0 to 1
 * ({@code 0.25}, {@code .5}, or as {@code Double.toString} writes it, {@code 1.0E-4}); a switch is
 * {@code true} or {@code false}. No sign, no hexadecimal, no type suffix, no spaces inside a value.
 */
public enum FaultFlag {
    LATENCY("latency",
            (faults, value, name) -> {
                long[] ms = pair(name, value);
                return faults.withLatency(delay(name, value, ms[0]), delay(name, value, ms[1]));
            },
            faults -> pair(faults.latency().toMillis(), faults.jitter().toMillis())),
    BANDWIDTH("bandwidth",
            (faults, value, name) -> faults.withBandwidth(wholeNumber(name, value, 0)),
            Faults::bandwidth),
    SLICE("slice",
            (faults, value, name) -> {
                long[] slice = pair(name, value);
                if (slice[0] > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(name + " takes at most " + Integer.MAX_VALUE + " bytes, was '" + value + "'");
                }
                return faults.withSlicing((int) slice[0], delay(name, value, slice[1]));
            },
            faults -> pair(faults.sliceBytes(), faults.sliceDelay().toMillis())),
    CLOSE_AFTER("close-after",
            (faults, value, name) -> faults.withCloseAfter(wholeNumber(name, value, -1)),
            Faults::closeAfter),
    RESET_AFTER("reset-after",
            (faults, value, name) -> faults.withResetAfter(wholeNumber(name, value, -1)),
            Faults::resetAfter),
    STALL_AFTER("stall-after",
            (faults, value, name) -> faults.withStallAfter(wholeNumber(name, value, -1)),
            Faults::stallAfter),
    READ_BANDWIDTH("read-bandwidth",
            (faults, value, name) -> faults.withReadBandwidth(wholeNumber(name, value, 0)),
            Faults::readBandwidth),
    TOXICITY("toxicity",
            (faults, value, name) -> faults.withToxicity(share(name, value)),
            Faults::toxicity),
    TLS_HANDSHAKE_DELAY("tls-handshake-delay",
            (faults, value, name) -> faults.withTls(faults.tls().withHandshakeDelay(delay(name, value, millis(name, value)))),
            faults -> faults.tls().handshakeDelay().toMillis()),
    TLS_STALL_HANDSHAKE("tls-stall-handshake",
            (faults, value, name) -> faults.withTls(faults.tls().withStallHandshake(bool(name, value))),
            faults -> faults.tls().stallHandshake()),
    TLS_TRUNCATE_AFTER("tls-truncate-after",
            (faults, value, name) -> faults.withTls(faults.tls().withTruncateAfter(wholeNumber(name, value, -1))),
            faults -> faults.tls().truncateAfter()),
    TLS_CERT_EXPIRED("tls-cert-expired",
            (faults, value, name) -> faults.withTls(faults.tls().withCertExpired(bool(name, value))),
            faults -> faults.tls().certExpired()),
    TLS_CERT_WRONG_HOST("tls-cert-wrong-host",
            (faults, value, name) -> faults.withTls(faults.tls().withCertWrongHost(bool(name, value))),
            faults -> faults.tls().certWrongHost());

    private final String key;
    private final Parser parser;
    private final Function<Faults, Object> value;

    FaultFlag(String key, Parser parser, Function<Faults, Object> value) {
        this.key = key;
        this.parser = parser;
        this.value = value;
    }

    @FunctionalInterface
    private interface Parser {
        Faults apply(Faults faults, String value, String name);
    }

    /** The JSON key, e.g. {@code close-after}. */
    public String key() {
        return key;
    }

    /** The command-line flag, e.g. {@code --close-after}. */
    public String flag() {
        return "--" + key;
    }

    /**
     * {@code faults} with this setting parsed from {@code value}. A bad value raises an
     * {@link IllegalArgumentException} whose message starts with {@code name} (the flag or the key).
     */
    public Faults apply(Faults faults, String value, String name) {
        if (value == null) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return parser.apply(faults, value.trim(), name);
    }

    /**
     * This setting of {@code faults}: a {@code String} for the {@code A:B} forms, a {@code Boolean} for a
     * switch, else a {@code Long} or {@code Double}.
     */
    public Object value(Faults faults) {
        return value.apply(faults);
    }

    /** The key's fault, if there is one; keys are the flags without the leading {@code --}. */
    public static Optional<FaultFlag> forKey(String key) {
        return Arrays.stream(values()).filter(flag -> flag.key.equals(key)).findFirst();
    }

    /** Every key, comma-separated, for messages. */
    public static String keys() {
        return Arrays.stream(values()).map(FaultFlag::key).collect(Collectors.joining(", "));
    }

    private static final Pattern PAIR = Pattern.compile("(\\d+)(?::(\\d+))?");
    private static final Pattern MILLIS = Pattern.compile("\\d+");
    private static final Pattern WHOLE = Pattern.compile("-?\\d+");
    private static final Pattern SHARE = Pattern.compile("(\\d+(\\.\\d+)?|\\.\\d+)([eE][-+]?\\d+)?");

    /** {@code "100:20"} → {100, 20}; {@code "100"} → {100, 0}. */
    private static long[] pair(String name, String value) {
        Matcher pair = PAIR.matcher(value);
        try {
            if (pair.matches()) {
                return new long[] {Long.parseLong(pair.group(1)), pair.group(2) == null ? 0 : Long.parseLong(pair.group(2))};
            }
        } catch (NumberFormatException beyondALong) {
            // reported below, with the flag's name
        }
        throw new IllegalArgumentException(name + " takes N or N:M with whole numbers >= 0, was '" + value + "'");
    }

    /** Milliseconds as a delay, refused beyond {@link Faults#MAX_DELAY} with a reason naming the flag. */
    private static Duration delay(String name, String value, long millis) {
        if (millis > Faults.MAX_DELAY.toMillis()) {
            throw new IllegalArgumentException(name + " takes at most " + Faults.MAX_DELAY.toMillis()
                    + " ms (1 hour), was '" + value + "'");
        }
        return Duration.ofMillis(millis);
    }

    /** The inverse of {@link #pair}: {@code 100:20}, or {@code 100} when the second part is 0. */
    private static String pair(long first, long second) {
        return second == 0 ? String.valueOf(first) : first + ":" + second;
    }

    private static long wholeNumber(String name, String value, long min) {
        try {
            long number = WHOLE.matcher(value).matches() ? Long.parseLong(value) : min - 1;
            if (number >= min) {
                return number;
            }
        } catch (NumberFormatException e) {
            // reported below, with the flag's name
        }
        throw new IllegalArgumentException(name + " takes a whole number of bytes" + (min < 0 ? " (-1 = off)" : "")
                + ", was '" + value + "'");
    }

    /** Milliseconds, digits only. */
    private static long millis(String name, String value) {
        try {
            if (MILLIS.matcher(value).matches()) {
                return Long.parseLong(value);
            }
        } catch (NumberFormatException beyondALong) {
            // reported below, with the flag's name
        }
        throw new IllegalArgumentException(name + " takes a whole number of milliseconds >= 0, was '" + value + "'");
    }

    private static boolean bool(String name, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + " takes true or false, was '" + value + "'");
        };
    }

    private static double share(String name, String value) {
        double share = SHARE.matcher(value).matches() ? Double.parseDouble(value) : -1;
        if (share >= 0 && share <= 1) {
            return share;
        }
        throw new IllegalArgumentException(name + " takes a share from 0 to 1, e.g. 0.25, was '" + value + "'");
    }
}
