package dev.loomecho.cli;

/**
 * The runnable jar's entry point, compiled for Java 8 so that Java 8 to 20 can load it. On a JVM older than
 * loom-echo needs it prints one line — what is needed, what was found, what to do — and exits 1,
 * where the JVM itself would print an {@code UnsupportedClassVersionError} and its stack trace.
 */
public final class Launcher {

    static final int REQUIRED_JAVA = 21;

    private Launcher() {
    }

    public static void main(String[] args) {
        int found = featureVersion(System.getProperty("java.specification.version"));
        if (found < REQUIRED_JAVA) {
            System.err.println("loom-echo needs Java " + REQUIRED_JAVA + " or newer, but this is Java "
                    + System.getProperty("java.version") + " (" + System.getProperty("java.home") + "): start the jar "
                    + "with a Java " + REQUIRED_JAVA + "+ ($JAVA_HOME/bin/java -jar with JAVA_HOME set to one), or in a "
                    + "loom-echo checkout use ./run.sh, which finds one");
            System.exit(1);
        }
        Main.main(args); // resolved only here, after the check: Main is compiled for Java 21
    }

    /** {@code "1.8"} → 8, {@code "17"} → 17. */
    static int featureVersion(String specificationVersion) {
        String[] parts = specificationVersion.split("\\.");
        int first = Integer.parseInt(parts[0]);
        return first == 1 && parts.length > 1 ? Integer.parseInt(parts[1]) : first;
    }
}
