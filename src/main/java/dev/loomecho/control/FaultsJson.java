package dev.loomecho.control;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.loomecho.Stats;
import dev.loomecho.fault.FaultFlag;
import dev.loomecho.fault.Faults;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control API's JSON, with Gson: a JSON object of fault keys (the CLI flags without {@code --}) in
 * and out, the values parsed by {@link FaultFlag}, the CLI's own grammar. Gson's exceptions stop here and
 * become {@link IllegalArgumentException}s with one-line reasons, so no other class needs Gson.
 */
final class FaultsJson {

    /** Strict: no comments, single quotes, unquoted names, NaN or trailing data, which lenient Gson accepts. */
    private static final Gson GSON = new GsonBuilder().setStrictness(Strictness.STRICT).disableHtmlEscaping().create();
    private static final Pattern WHERE = Pattern.compile("at line \\d+ column \\d+");
    private static final String NOT_AN_OBJECT = "the body must be a JSON object such as {\"latency\": \"200:20\"}";

    private FaultsJson() {
    }

    /**
     * Parses a {@code PUT /faults} body: keys left out take their defaults (the faults are replaced, not
     * patched). Read token by token, so a key given twice is refused instead of the last one winning.
     */
    static Faults parse(String body) {
        if (body.isBlank()) {
            throw new IllegalArgumentException(NOT_AN_OBJECT + ", was empty");
        }
        JsonReader reader = new JsonReader(new StringReader(body));
        reader.setStrictness(Strictness.STRICT);
        try {
            JsonToken first = reader.peek();
            if (first != JsonToken.BEGIN_OBJECT) {
                throw new IllegalArgumentException(NOT_AN_OBJECT + ", was " + describe(first));
            }
            Faults faults = Faults.NONE;
            Set<String> seen = new HashSet<>();
            reader.beginObject();
            while (reader.hasNext()) {
                String key = reader.nextName();
                FaultFlag flag = FaultFlag.forKey(key).orElseThrow(() -> new IllegalArgumentException(
                        "unknown key \"" + key + "\"; the keys are " + FaultFlag.keys()));
                if (!seen.add(key)) {
                    throw new IllegalArgumentException("duplicate key \"" + key + "\": give each key once");
                }
                faults = flag.apply(faults, text(key, reader), key);
            }
            reader.endObject();
            reader.peek(); // strict: anything after the object is malformed
            return faults;
        } catch (IOException | IllegalStateException e) { // MalformedJsonException, EOFException, a token out of place
            Matcher where = WHERE.matcher(String.valueOf(e.getMessage()));
            throw new IllegalArgumentException("malformed JSON" + (where.find() ? " " + where.group() : "")
                    + "; send an object such as {\"latency\": \"200:20\"}");
        }
    }

    /** Every setting of {@code faults}, in the form {@link #parse} reads back. */
    static String render(Faults faults) {
        JsonObject json = new JsonObject();
        for (FaultFlag flag : FaultFlag.values()) {
            Object value = flag.value(faults);
            json.add(flag.key(), switch (value) {
                case Number number -> new JsonPrimitive(number);
                case Boolean on -> new JsonPrimitive(on);
                default -> new JsonPrimitive((String) value);
            });
        }
        return GSON.toJson(json);
    }

    static String render(Stats stats) {
        return GSON.toJson(stats);
    }

    /**
     * The next value as the flag's text: a JSON string as it is; a JSON number that is a whole number, in
     * whatever form ({@code 1e3}, {@code 1000.0}: Python's {@code json.dumps} writes floats so), as its
     * digits; any other number as written ({@code 0.5}); {@code true} and {@code false} as those words;
     * for the flag's grammar to take or refuse.
     */
    private static String text(String key, JsonReader reader) throws IOException {
        JsonToken token = reader.peek();
        if (token == JsonToken.STRING) {
            return reader.nextString();
        }
        if (token == JsonToken.NUMBER) {
            String literal = reader.nextString();
            try {
                return String.valueOf(new BigDecimal(literal).longValueExact());
            } catch (ArithmeticException notAWholeLong) {
                return literal;
            }
        }
        if (token == JsonToken.BOOLEAN) {
            return String.valueOf(reader.nextBoolean()); // for the switches; any other key's grammar refuses it
        }
        throw new IllegalArgumentException(key + " takes a string, a number or true/false, was " + describe(token));
    }

    private static String describe(JsonToken token) {
        return switch (token) {
            case BEGIN_OBJECT -> "an object";
            case BEGIN_ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "true or false";
            case NULL -> "null";
            default -> token.toString();
        };
    }
}
