package dev.loomecho.control;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import dev.loomecho.Stats;
import dev.loomecho.fault.FaultFlag;
import dev.loomecho.fault.Faults;
import java.util.Map;
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

    private FaultsJson() {
    }

    /** Parses a {@code PUT /faults} body: keys left out take their defaults (the faults are replaced, not patched). */
    static Faults parse(String body) {
        JsonElement json;
        try {
            json = GSON.fromJson(body, JsonElement.class);
        } catch (JsonParseException e) {
            Matcher where = WHERE.matcher(String.valueOf(e.getMessage()));
            throw new IllegalArgumentException("malformed JSON" + (where.find() ? " " + where.group() : "")
                    + "; send an object such as {\"latency\": \"200:20\"}");
        }
        if (json == null || !json.isJsonObject()) {
            throw new IllegalArgumentException("the body must be a JSON object such as {\"latency\": \"200:20\"}, was "
                    + (json == null ? "empty" : json));
        }
        Faults faults = Faults.NONE;
        for (Map.Entry<String, JsonElement> entry : json.getAsJsonObject().entrySet()) {
            String key = entry.getKey();
            FaultFlag flag = FaultFlag.forKey(key).orElseThrow(() -> new IllegalArgumentException(
                    "unknown key \"" + key + "\"; the keys are " + FaultFlag.keys()));
            faults = flag.apply(faults, text(key, entry.getValue()), key);
        }
        return faults;
    }

    /** Every setting of {@code faults}, in the form {@link #parse} reads back. */
    static String render(Faults faults) {
        JsonObject json = new JsonObject();
        for (FaultFlag flag : FaultFlag.values()) {
            Object value = flag.value(faults);
            json.add(flag.key(), value instanceof Number number ? new JsonPrimitive(number) : new JsonPrimitive((String) value));
        }
        return GSON.toJson(json);
    }

    static String render(Stats stats) {
        return GSON.toJson(stats);
    }

    /** A value as the flag's text: JSON strings as they are, JSON numbers as written ({@code 4096}, {@code 0.5}). */
    private static String text(String key, JsonElement value) {
        if (value.isJsonPrimitive() && (value.getAsJsonPrimitive().isString() || value.getAsJsonPrimitive().isNumber())) {
            return value.getAsString();
        }
        throw new IllegalArgumentException(key + " takes a string or a number, was " + value);
    }
}
