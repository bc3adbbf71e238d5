package dev.loomecho.seeds;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Builds the seed servers with mingw-w64 and runs them under Wine, for tests.
 *
 * <p>One Wine prefix and one wineserver serve the whole test run: the prefix ({@code target/seeds/wineprefix},
 * the one {@code ./run.sh seed-server} uses) is created once and kept, and a persistent wineserver is started
 * once per JVM and stopped when the JVM exits (or 60 s after its last process, if the JVM dies first). A seed server then starts in about 0.3 s instead of the
 * 3 s it takes Wine to bring up its services each time (measured; seeds/README.md).
 */
public final class Wine {

    private static final Path PROJECT = Path.of(System.getProperty("user.dir"));
    static final Path PREFIX = PROJECT.resolve("target/seeds/wineprefix");
    private static final Duration SETUP_TIMEOUT = Duration.ofMinutes(5);

    private static final Optional<String> MISSING = findMissing();
    private static boolean ready;

    private Wine() {
    }

    /** Why seed servers cannot run here (a missing compiler or Wine), or empty when they can. */
    public static Optional<String> missing() {
        return MISSING;
    }

    /** Starts {@code model}'s server on a free loopback port, once it prints that it listens. */
    public static SeedProcess start(SeedModel model, int bufferSize) throws IOException, InterruptedException {
        setUpOnce();
        ProcessBuilder builder = new ProcessBuilder(wine64().toString(),
                PROJECT.resolve("target/seeds/" + model.fileName() + ".exe").toString(),
                "--port", "0", "--buffer-size", Integer.toString(bufferSize))
                .redirectErrorStream(true);
        builder.environment().putAll(environment());
        try {
            return SeedProcess.start(model, builder);
        } catch (IOException lostWineserver) {
            // Wine's own client-server link can drop as a process starts ("wine client error: recvmsg:
            // Connection reset by peer", seen under load): the seed never ran. One more try; a seed
            // that fails by itself fails again.
            if (!String.valueOf(lostWineserver.getMessage()).contains("wine client error")) {
                throw lostWineserver;
            }
            System.err.println("seeds: " + lostWineserver.getMessage() + "; starting it again");
            setUpOnce();
            return SeedProcess.start(model, builder);
        }
    }

    private static synchronized void setUpOnce() throws IOException, InterruptedException {
        if (ready && wineserverRuns()) {
            return;
        }
        long started = System.nanoTime();
        run(List.of(PROJECT.resolve("seeds/build.sh").toString()));
        long built = System.nanoTime();

        boolean fresh = !Files.exists(PREFIX.resolve("system.reg"));
        Files.createDirectories(PREFIX); // wineserver starts in the prefix, so it must exist first
        // Persistent for 60 s after its last process ends: it outlives the gaps between tests, and ends
        // by itself if this JVM dies without its shutdown hook. It returns once the server is up. Exit
        // code 2: one already serves this prefix (a ./run.sh seed-server), and it will do.
        if (run(List.of(wineserver().toString(), "-p60"), 2) == 0) { // ours: stop it, and all it serves, at exit
            Runtime.getRuntime().addShutdownHook(new Thread(Wine::stopWineserver, "seeds-wineserver-stop"));
        }
        if (fresh) {
            run(List.of(wine64().toString(), "wineboot", "--init"));
        }
        long prefixed = System.nanoTime();
        System.out.printf("seeds: build %d ms, %s %d ms%n", millis(built - started),
                fresh ? "new Wine prefix" : "wineserver on the kept prefix", millis(prefixed - built));
        ready = true;
    }

    /** Whether a wineserver serves the prefix: {@code wineserver -k0} signals nothing and fails when none runs. */
    private static boolean wineserverRuns() throws IOException, InterruptedException {
        return run(List.of(wineserver().toString(), "-k0"), 1) == 0;
    }

    /**
     * Ends the wineserver and every Wine process left in the prefix. {@code wineserver -k} alone once left
     * Wine's services (services.exe, winedevice.exe...) running without a server, spinning; so any process
     * of this prefix that this JVM's run started is then ended by its pid.
     */
    private static void stopWineserver() {
        try {
            run(List.of(wineserver().toString(), "-k"), 1); // 1: none was running
        } catch (IOException | InterruptedException e) {
            System.err.println("seeds: could not stop the wineserver of " + PREFIX + ": " + e);
        }
        Instant jvmStarted = Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
        List<ProcessHandle> left = ProcessHandle.allProcesses()
                .filter(process -> process.info().startInstant().map(jvmStarted::isBefore).orElse(false))
                .filter(Wine::runsInThePrefix)
                .toList();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3); // time to end on their own
        for (ProcessHandle process : left) {
            try {
                process.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception stillRunning) {
                System.err.println("seeds: ending Wine process " + process.pid() + " " + process.info().command().orElse("")
                        + ", left running after wineserver -k");
                process.destroyForcibly();
            }
        }
    }

    private static boolean runsInThePrefix(ProcessHandle process) {
        try {
            String environment = Files.readString(Path.of("/proc", Long.toString(process.pid()), "environ"),
                    StandardCharsets.ISO_8859_1);
            return Arrays.asList(environment.split("\0")).contains("WINEPREFIX=" + PREFIX);
        } catch (IOException | SecurityException gone) {
            return false; // ended meanwhile, or not ours to read
        }
    }

    /** Runs {@code command} to its end and returns its exit code; one other than 0 and {@code alsoFine} fails. */
    private static int run(List<String> command, int... alsoFine) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(PROJECT.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().putAll(environment());
        Process process = builder.start();
        if (!process.waitFor(SETUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new IOException(String.join(" ", command) + " did not finish within " + SETUP_TIMEOUT);
        }
        int exit = process.exitValue();
        if (exit != 0 && Arrays.stream(alsoFine).noneMatch(code -> code == exit)) {
            throw new IOException(String.join(" ", command) + " failed with exit code " + exit);
        }
        return exit;
    }

    private static Map<String, String> environment() {
        return Map.of(
                "WINEPREFIX", PREFIX.toString(),
                "WINEDEBUG", "-all",                      // no Wine diagnostics among the server's lines
                "WINEDLLOVERRIDES", "mscoree,mshtml=");   // a new prefix does not offer Mono and Gecko
    }

    private static Optional<String> findMissing() {
        if (findOnPath("x86_64-w64-mingw32-gcc").isEmpty()) {
            return Optional.of("needs mingw-w64 to build the seed servers (apt-get install gcc-mingw-w64-x86-64-win32)");
        }
        if (!Files.isExecutable(wine64()) || !Files.isExecutable(wineserver())) {
            return Optional.of("needs Wine to run the seed servers (apt-get install wine64)");
        }
        return Optional.empty();
    }

    private static Path wine64() {
        Path debian = Path.of("/usr/lib/wine/wine64");
        return Files.isExecutable(debian) ? debian : findOnPath("wine64").orElse(debian);
    }

    private static Path wineserver() {
        Path debian = Path.of("/usr/lib/wine/wineserver64");
        return Files.isExecutable(debian) ? debian : findOnPath("wineserver").orElse(debian);
    }

    private static Optional<Path> findOnPath(String command) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(directory, command);
            if (!directory.isEmpty() && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
