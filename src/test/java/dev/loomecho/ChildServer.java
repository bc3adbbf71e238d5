package dev.loomecho;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code loom-echo serve} in a child JVM, for what only a separate process can show: signals, exit
 * codes, and a lowered open-file limit. Its output is collected; {@link #close()} kills it if needed.
 */
public final class ChildServer implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on ([\\d.]+):(\\d+)");
    private static final Pattern CONTROL = Pattern.compile("control API on http://([\\d.]+):(\\d+)");
    private static final Pattern TLS = Pattern.compile("TLS on ([\\d.]+):(\\d+)");

    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    private final CompletableFuture<Integer> controlPort = new CompletableFuture<>();
    private final CompletableFuture<Integer> tlsPort = new CompletableFuture<>();
    private final Thread collector;

    private ChildServer(Process process) {
        this.process = process;
        this.collector = Thread.ofVirtual().name("child-output").start(this::collectOutput);
    }

    /** Starts {@code serve --port 0 ARGS} from the test classpath; with {@code openFileLimit > 0} under {@code ulimit -n}. */
    public static ChildServer start(int openFileLimit, String... args) throws IOException {
        return start(Map.of(), openFileLimit, List.of("-cp", System.getProperty("java.class.path"), "dev.loomecho.cli.Main"), serve(args));
    }

    /** Starts {@code serve --port 0 ARGS} from the test classpath, with {@code environment} added to ours. */
    public static ChildServer startWithEnvironment(Map<String, String> environment, String... args) throws IOException {
        return start(environment, 0, List.of("-cp", System.getProperty("java.class.path"), "dev.loomecho.cli.Main"), serve(args));
    }

    /**
     * Starts {@code serve --port 0 ARGS} from the runnable jar, as users run it (for tests after package).
     * One jar also means one file descriptor for classes, where the test classpath opens a jar per library.
     */
    public static ChildServer startJar(int openFileLimit, String... args) throws IOException {
        return startJar(openFileLimit, List.of(), args);
    }

    /** {@link #startJar(int, String...)} with options for the JVM, e.g. {@code --enable-preview}. */
    public static ChildServer startJar(int openFileLimit, List<String> jvmOptions, String... args) throws IOException {
        Path jar = Path.of("target/loom-echo.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run this test after `mvn package`");
        }
        List<String> launch = new ArrayList<>(jvmOptions);
        launch.addAll(List.of("-jar", jar.toString()));
        return start(Map.of(), openFileLimit, launch, serve(args));
    }

    /** Starts the CLI from the test classpath with exactly {@code cliArguments}: no {@code serve --port 0} added. */
    public static ChildServer startCommandLine(String... cliArguments) throws IOException {
        return start(Map.of(), 0, List.of("-cp", System.getProperty("java.class.path"), "dev.loomecho.cli.Main"), List.of(cliArguments));
    }

    private static List<String> serve(String... args) {
        List<String> cliArguments = new ArrayList<>(List.of("serve", "--port", "0"));
        cliArguments.addAll(List.of(args));
        return cliArguments;
    }

    /**
     * Starts {@code serve --port 0 ARGS} from {@code jar} under {@code prefix}, a command that runs the rest
     * of its arguments, e.g. {@code setpriv ... prlimit --nproc=70 --}.
     */
    public static ChildServer startCommand(List<String> prefix, Path jar, String... args) throws IOException {
        return start(Map.of(), 0, prefix, List.of("-jar", jar.toString()), serve(args));
    }

    /**
     * Starts {@code serve --port 0 ARGS} with {@code javaAndJar}: a java command (another JDK's, say, or one
     * in a chroot), its options, {@code -jar} and the jar as that java sees it.
     */
    public static ChildServer startWith(List<String> javaAndJar, String... args) throws IOException {
        return launch(Map.of(), 0, List.of(), javaAndJar, serve(args));
    }

    private static ChildServer start(Map<String, String> environment, int openFileLimit, List<String> launch,
                                     List<String> cliArguments) throws IOException {
        return start(environment, openFileLimit, List.of(), launch, cliArguments);
    }

    private static ChildServer start(Map<String, String> environment, int openFileLimit, List<String> prefix,
                                     List<String> launch, List<String> cliArguments) throws IOException {
        List<String> java = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(), "-Xmx256m")); // as users run it: no flags
        java.addAll(launch);
        return launch(environment, openFileLimit, prefix, java, cliArguments);
    }

    private static ChildServer launch(Map<String, String> environment, int openFileLimit, List<String> prefix,
                                      List<String> javaAndJar, List<String> cliArguments) throws IOException {
        List<String> java = new ArrayList<>(javaAndJar);
        java.addAll(cliArguments);
        List<String> command = new ArrayList<>(prefix);
        if (openFileLimit > 0) {
            command.addAll(List.of("bash", "-c", "ulimit -n " + openFileLimit + " && exec \"$@\"", "bash"));
        }
        command.addAll(java);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("JDK_JAVA_OPTIONS");
        builder.environment().putAll(environment);
        return new ChildServer(builder.start());
    }

    private void collectOutput() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream()))) {
            String line;
            while ((line = lines.readLine()) != null) {
                output.append(line).append('\n');
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    port.complete(Integer.parseInt(m.group(2)));
                }
                Matcher control = CONTROL.matcher(line);
                if (control.find()) {
                    controlPort.complete(Integer.parseInt(control.group(2)));
                }
                Matcher tls = TLS.matcher(line);
                if (tls.find()) {
                    tlsPort.complete(Integer.parseInt(tls.group(2)));
                }
            }
        } catch (IOException e) {
            // the process is gone
        } finally {
            port.completeExceptionally(new IllegalStateException("child exited before listening:\n" + output));
            controlPort.completeExceptionally(new IllegalStateException("child exited without a control API:\n" + output));
            tlsPort.completeExceptionally(new IllegalStateException("child exited without a TLS listener:\n" + output));
        }
    }

    public InetSocketAddress address() throws Exception {
        return new InetSocketAddress("127.0.0.1", port.get(30, TimeUnit.SECONDS));
    }

    /** The control API's address, when started with {@code --control-port}. */
    public InetSocketAddress controlAddress() throws Exception {
        return new InetSocketAddress("127.0.0.1", controlPort.get(30, TimeUnit.SECONDS));
    }

    /** The TLS listener's address, when started with {@code --tls-port}. */
    public InetSocketAddress tlsAddress() throws Exception {
        return new InetSocketAddress("127.0.0.1", tlsPort.get(30, TimeUnit.SECONDS));
    }

    public long pid() {
        return process.pid();
    }

    /**
     * SIGTERM, as {@code kill PID} or a container runtime sends it. Through the process handle:
     * {@code Process.destroy()} would also close our end of the child's output pipe, and lose what
     * the child prints while it shuts down.
     */
    public void terminate() {
        process.toHandle().destroy();
    }

    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError("child did not exit within 60 s:\n" + output);
        }
        collector.join(); // the last lines may still be in the pipe
        return process.exitValue();
    }

    public String output() {
        return output.toString();
    }

    /** Total CPU time (user + system) the process has used, from /proc/PID/stat, in clock ticks. */
    public long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14, 15)
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
