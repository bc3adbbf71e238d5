package dev.loomecho;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds live threads by name, virtual ones included. {@code Thread.getAllStackTraces()} sees only
 * platform threads; the JDK's JSON thread dump also lists every virtual thread in its container
 * (a StructuredTaskScope is one), which is how we prove a closed server left none behind.
 */
public final class ThreadDumps {

    private ThreadDumps() {
    }

    /** How many live threads, platform or virtual, have a name starting with {@code prefix}. */
    public static long countThreadsNamed(String prefix) {
        return threadsNamed(prefix).size();
    }

    /** The names of the live threads, platform or virtual, whose name starts with {@code prefix}. */
    public static List<String> threadsNamed(String prefix) {
        String marker = "\"name\": \"";
        return json().lines()
                .filter(line -> line.contains(marker + prefix))
                .map(line -> line.substring(line.indexOf(marker) + marker.length(), line.lastIndexOf('"')))
                .toList();
    }

    /** The JDK's JSON thread dump: every thread, grouped by the container (scope, executor) that owns it. */
    public static String json() {
        try {
            Path dir = Files.createTempDirectory("loom-echo-dump");
            Path file = dir.resolve("threads.json");
            try {
                ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                        .dumpThreads(file.toString(), ThreadDumpFormat.JSON);
                return Files.readString(file);
            } finally {
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
