package dev.loomecho.seeds;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One running seed server: its port, every line it printed (its limits, its refusals), and its thread
 * count. Closing it ends the process.
 */
public final class SeedProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final SeedModel model;
    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Integer> port = new CompletableFuture<>();

    private SeedProcess(SeedModel model, Process process) {
        this.model = model;
        this.process = process;
    }

    static SeedProcess start(SeedModel model, ProcessBuilder builder) throws IOException, InterruptedException {
        SeedProcess seed = new SeedProcess(model, builder.start());
        Thread.ofPlatform().daemon().name("seed-" + model.fileName() + "-output").start(seed::readLines);
        try {
            seed.port.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return seed;
        } catch (ExecutionException | TimeoutException e) {
            seed.close();
            throw new IOException("seed server " + model.fileName() + " did not start listening within "
                    + START_TIMEOUT + "; it printed " + seed.lines, e);
        } catch (InterruptedException e) {
            seed.close();
            throw e;
        }
    }

    private void readLines() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                line = line.strip(); // Wine's C runtime ends lines with \r\n
                lines.add(line);
                Matcher listening = LISTENING.matcher(line);
                if (listening.find()) {
                    port.complete(Integer.parseInt(listening.group(1)));
                }
            }
        } catch (IOException e) {
            // the process ended while we read: what it printed is in lines
        }
        port.completeExceptionally(new IOException("exited before it listened"));
    }

    public SeedModel model() {
        return model;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port.join());
    }

    /** Everything the server printed so far, one line each, without line ends. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** The process's threads as Linux counts them (Wine runs each Windows thread as one Linux thread). */
    public int threadCount() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("Threads:")) {
                    return Integer.parseInt(line.substring("Threads:".length()).strip());
                }
            }
            throw new IllegalStateException("no Threads: line for process " + process.pid());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return model.fileName() + " (pid " + process.pid() + ")";
    }
}
