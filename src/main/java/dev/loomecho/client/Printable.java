package dev.loomecho.client;

/** Bytes shown in a message: printable ASCII as it is, anything else as {@code \xNN}, long ones cut short. */
final class Printable {

    private static final int MAX_SHOWN = 60;

    private Printable() {
    }

    static String of(byte[] bytes) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, MAX_SHOWN); i++) {
            int b = bytes[i] & 0xFF;
            if (b >= 0x20 && b < 0x7F && b != '\\') {
                text.append((char) b);
            } else {
                text.append(String.format("\\x%02x", b));
            }
        }
        return bytes.length > MAX_SHOWN ? text + "... (" + bytes.length + " bytes)" : text.toString();
    }
}
