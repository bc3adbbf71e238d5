package dev.loomecho.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the numbers and booleans of the load generator's one flat JSON line (nested keys flattened). */
final class Json {

    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":(true|false|-?[0-9.]+)");

    private Json() {
    }

    static Map<String, Double> flatNumbers(String json) {
        Map<String, Double> values = new HashMap<>();
        Matcher m = FIELD.matcher(json);
        while (m.find()) {
            String v = m.group(2);
            values.put(m.group(1), v.equals("true") ? 1.0 : v.equals("false") ? 0.0 : Double.parseDouble(v));
        }
        if (!values.containsKey("ok")) {
            throw new IllegalStateException("load generator printed no result: " + json);
        }
        return values;
    }
}
