package dev.loomecho.cli;

/**
 * slf4j-simple settings for the runnable jar, set as system properties so the library jar carries no
 * logging configuration of its own. Anything given with {@code -D} on the command line wins.
 */
final class LogDefaults {

    private static final String DEFAULT_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    private LogDefaults() {
    }

    static void apply() {
        setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
        setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
        setIfAbsent(DEFAULT_LEVEL, "info");
    }

    /** {@code --log-level}: given on the command line, it wins over a {@code -D} default. */
    static void level(String level) {
        System.setProperty(DEFAULT_LEVEL, level);
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
