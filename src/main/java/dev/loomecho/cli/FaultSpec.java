package dev.loomecho.cli;

/** Parses the {@code A[:B]} values of the fault flags, e.g. {@code --latency 100:20}, {@code --slice 16:5}. */
final class FaultSpec {

    private FaultSpec() {
    }

    /** {@code "100:20"} → {100, 20}; {@code "100"} → {100, secondDefault}; null → {0, 0}. */
    static long[] pair(String flag, String value, long secondDefault) {
        if (value == null) {
            return new long[] {0, 0};
        }
        String[] parts = value.split(":", -1);
        try {
            if (parts.length > 2) {
                throw new NumberFormatException();
            }
            long first = Long.parseLong(parts[0].trim());
            long second = parts.length == 2 ? Long.parseLong(parts[1].trim()) : secondDefault;
            if (first < 0 || second < 0) {
                throw new NumberFormatException();
            }
            return new long[] {first, second};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " takes N or N:M with whole numbers >= 0, was '" + value + "'");
        }
    }
}
