package dev.loomecho.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./run.sh soak}: the project's own mixed-abuse soak. Each engine is served by its own JVM with
 * the options {@code ./run.sh serve} uses (LOOM_ECHO_JVM_OPTIONS, named in the report), and for {@code --duration} this process throws everything at it at once:
 * An echo is verified (all bytes, then the end of stream where one is due), cut short (a true prefix: a
 * stalled connection closed by the idle timeout) or wrong (a byte differs, or more came than was sent).
 * <ul>
 *   <li>churn: connect, one message of 1 B to 64 KiB (sizes spread evenly over the powers of two),
 *       verify the echo byte for byte, close;</li>
 *   <li>resets: send 32 KiB, read a little, close with a TCP reset (SO_LINGER 0);</li>
 *   <li>half-close with slow readers: send 64 KiB, shut output down, read the echo 1 KiB at a time;</li>
 *   <li>idle holders: connections that say nothing, held past the server's idle timeout;</li>
 *   <li>long pipelines: 5,000 messages written ahead of their echoes, all verified;</li>
 *   <li>non-reading flooders: write and never read, until the server's idle timeout closes them.</li>
 * </ul>
 * Around it, the server's RSS, descriptors and threads are sampled every 250 ms (start, peak, end),
 * and its read-buffer memory is read from {@code /metrics}. After the load the soak waits for the server
 * to settle, then reports. The RSS at the end is reported, not judged: the JVM keeps the heap it has
 * committed (G1 returns it only after a periodic or full GC), while the buffer memory, which the server
 * itself controls, must be back. So the RSS is read once more after one full GC ({@code jcmd PID GC.run}):
 * what is left above the start then is what no GC gives back (code cache, metaspace, malloc arenas). It exits 1 if any echo was wrong or a resource did not come back: descriptors
 * above their start (+2, the scrape's own connection), threads above their start (+10, the JVM's own
 * compiler and GC threads, started on demand), buffers still in use or more than 4 MiB still pooled, or
 * an RSS peak more than 200 MiB over the start. Every loop is bounded by the duration; fewer than 1,000 sockets are open
 * at any time (the limit here is 20,000 descriptors per process).
 *
 * <p>Usage: {@code soak [--engine NAME|all] [--duration 60s] [--nmt] [--out FILE]}, from the project root.
 */
public final class Soak {

    private static final List<String> ENGINES = List.of("virtual", "platform", "completion", "future", "selector");
    private static final int PORT = 7200;
    private static final int METRICS_PORT = 7201;
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration SETTLE = Duration.ofSeconds(8);
    private static final Duration WARM_UP = Duration.ofSeconds(3);
    private static final long RSS_PEAK_ALLOWANCE = 200L << 20;
    /** The 256 B slabs stay (at most one per 256 connections open at once); everything else must be freed. */
    private static final long BUFFER_POOLED_END_ALLOWANCE = 4L << 20;
    /** The metrics scrape's own keep-alive connection may still be open at the end. */
    private static final long FD_SLACK = 2;
    /** The JVM starts compiler and GC threads as it needs them and keeps some: not connections left over. */
    private static final long THREAD_SLACK = 10;

    private final Path java = Path.of(ProcessHandle.current().info().command().orElse("java"));
    private final Duration duration;
    private final boolean nmt;
    private final List<String> jvmOptions;

    private Soak(Duration duration, boolean nmt) {
        this.duration = duration;
        this.nmt = nmt;
        String options = System.getenv().getOrDefault("LOOM_ECHO_JVM_OPTIONS", "").trim();
        this.jvmOptions = options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
    }

    public static void main(String[] args) throws Exception {
        List<String> engines = ENGINES;
        Duration duration = Duration.ofSeconds(60);
        boolean nmt = false;
        Path out = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--engine" -> engines = args[++i].equals("all") ? ENGINES : List.of(args[i].split(","));
                    case "--duration" -> duration = Duration.parse("PT" + args[++i].toUpperCase(Locale.ROOT));
                    case "--nmt" -> nmt = true;
                    case "--out" -> out = Path.of(args[++i]);
                    default -> usage("unknown option " + args[i]);
                }
            }
        } catch (ArrayIndexOutOfBoundsException | java.time.format.DateTimeParseException e) {
            usage(e.getMessage());
        }
        for (String engine : engines) {
            if (!ENGINES.contains(engine)) {
                usage("no engine " + engine + "; one of " + ENGINES + " or all");
            }
        }
        Soak soak = new Soak(duration, nmt);
        List<Result> results = new ArrayList<>();
        for (String engine : engines) {
            BenchRunner.log("soak: %s for %ds", engine, duration.toSeconds());
            Result result = soak.run(engine);
            results.add(result);
            BenchRunner.log("  %s", result.problems().isEmpty() ? "ok" : "NOT OK: " + String.join("; ", result.problems()));
        }
        String table = table(results, duration, soak.jvmOptions);
        System.out.print(table);
        if (out != null) {
            Files.writeString(out, table);
        }
        System.exit(results.stream().allMatch(r -> r.problems().isEmpty()) ? 0 : 1);
    }

    private static void usage(String why) {
        System.err.println("soak: " + why);
        System.err.println("usage: soak [--engine virtual|platform|completion|future|selector|all] [--duration 60s] [--nmt] [--out FILE]");
        System.exit(2);
    }

    /** What one engine's soak counted and measured. */
    record Result(String engine, Counts counts, Samples rss, Samples fds, Samples threads,
                  long bufferPeak, long bufferInUseEnd, long bufferPooledEnd, long allocationFailures,
                  String nmtStart, String nmtEnd) {
        List<String> problems() {
            List<String> problems = new ArrayList<>();
            if (counts.wrong.get() > 0) {
                problems.add(counts.wrong.get() + " wrong echoes");
            }
            if (counts.verified.get() == 0) {
                problems.add("no echo verified");
            }
            if (fds.end > fds.start + FD_SLACK) {
                problems.add("descriptors " + fds.start + " -> " + fds.end);
            }
            if (threads.end > threads.start + THREAD_SLACK) {
                problems.add("threads " + threads.start + " -> " + threads.end);
            }
            if (bufferInUseEnd != 0) {
                problems.add(bufferInUseEnd + " B of buffers still in use");
            }
            if (rss.peak > rss.start + RSS_PEAK_ALLOWANCE) {
                problems.add("RSS peak " + mib(rss.peak) + " over start " + mib(rss.start) + " + 200 MiB");
            }
            if (bufferPooledEnd > BUFFER_POOLED_END_ALLOWANCE) {
                problems.add(mib(bufferPooledEnd) + " of buffers still pooled " + SETTLE.toSeconds() + " s after the load");
            }
            return problems;
        }
    }

    /** Verified and wrong echoes, and the other events of the mix. */
    static final class Counts {
        final AtomicLong verified = new AtomicLong();
        final AtomicLong wrong = new AtomicLong();
        final AtomicLong cutShort = new AtomicLong();
        final AtomicLong resets = new AtomicLong();
        final AtomicLong idleClosed = new AtomicLong();
        final AtomicLong floodersClosed = new AtomicLong();
        final AtomicLong connectFailures = new AtomicLong();
    }

    /** A resource's value at the start, its peak while sampled, and at the end. */
    static final class Samples {
        volatile long start;
        volatile long peak;
        volatile long end;
        /** After one full GC that the soak asks for once the load has ended (RSS only). */
        volatile long afterGc;

        void sample(long value) {
            peak = Math.max(peak, value);
        }
    }

    private Result run(String engine) throws Exception {
        List<String> command = new ArrayList<>(List.of(java.toString()));
        command.addAll(jvmOptions);
        if (nmt) {
            command.add("-XX:NativeMemoryTracking=summary");
        }
        command.addAll(List.of("-jar", "target/loom-echo.jar", "serve", "--port", String.valueOf(PORT),
                "--engine", engine, "--metrics-port", String.valueOf(METRICS_PORT),
                "--idle-timeout", IDLE_TIMEOUT.toSeconds() + "s"));
        Process server = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("target/soak-" + engine + ".log").toFile())).start();
        try {
            awaitListening(server);
            warmUp();
            ProcStats proc = new ProcStats(server.pid());
            Samples rss = new Samples();
            Samples fds = new Samples();
            Samples threads = new Samples();
            rss.start = rss.peak = proc.rssBytes();
            fds.start = fds.peak = openFiles(server.pid());
            threads.start = threads.peak = proc.threads();
            String nmtStart = nmt ? nmtTotal(server.pid()) : "";
            Counts counts = new Counts();
            AtomicLong bufferPeak = new AtomicLong();
            long deadline = System.nanoTime() + duration.toNanos();
            List<Thread> load = startMix(counts, deadline);
            long settleUntil = deadline + SETTLE.toNanos();
            while (System.nanoTime() < settleUntil) {
                rss.sample(proc.rssBytes());
                fds.sample(openFiles(server.pid()));
                threads.sample(proc.threads());
                Map<String, Long> metrics = metrics();
                bufferPeak.accumulateAndGet(metrics.getOrDefault("loomecho_buffer_bytes_in_use", 0L)
                        + metrics.getOrDefault("loomecho_buffer_bytes_pooled", 0L), Math::max);
                Thread.sleep(250);
            }
            for (Thread worker : load) {
                worker.join(TimeUnit.SECONDS.toMillis(30));
            }
            rss.end = proc.rssBytes();
            rss.afterGc = rssAfterFullGc(server.pid(), proc);
            fds.end = openFiles(server.pid());
            threads.end = proc.threads();
            Map<String, Long> metrics = metrics();
            return new Result(engine, counts, rss, fds, threads, bufferPeak.get(),
                    metrics.getOrDefault("loomecho_buffer_bytes_in_use", -1L),
                    metrics.getOrDefault("loomecho_buffer_bytes_pooled", -1L),
                    metrics.getOrDefault("loomecho_buffer_allocation_failures_total", -1L),
                    nmtStart, nmt ? nmtTotal(server.pid()) : "");
        } finally {
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * A few seconds of the mix before the start is measured: the JDK opens its pollers' descriptors and
     * the JVM its compiler threads on first need, once; they are not what the soak looks for.
     */
    private void warmUp() throws InterruptedException {
        for (Thread worker : startMix(new Counts(), System.nanoTime() + WARM_UP.toNanos())) {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        }
        metrics();
        Thread.sleep(IDLE_TIMEOUT.toMillis() + 1_000); // what the warm-up left open is reaped
    }

    /** Every kind of traffic at once, each worker a virtual thread that stops at {@code deadline}. */
    private List<Thread> startMix(Counts counts, long deadline) {
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            workers.add(worker("churn", deadline, () -> churn(counts)));
        }
        for (int i = 0; i < 2; i++) {
            workers.add(worker("reset", deadline, () -> reset(counts)));
            workers.add(worker("half-close", deadline, () -> halfCloseSlowReader(counts)));
            workers.add(worker("pipeline", deadline, () -> pipeline(counts)));
            workers.add(worker("flooder", deadline, () -> flood(counts)));
        }
        workers.add(worker("idle", deadline, () -> holdIdle(counts)));
        return workers;
    }

    @FunctionalInterface
    private interface Round {
        void run() throws Exception;
    }

    private static Thread worker(String name, long deadline, Round round) {
        return Thread.ofVirtual().name("soak-" + name).start(() -> {
            while (System.nanoTime() < deadline) {
                try {
                    round.run();
                } catch (Exception e) {
                    // a connection the server ended (idle timeout, reset) ends this round only
                }
            }
        });
    }

    private static Socket connect(Counts counts) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), PORT), 5_000);
            socket.setSoTimeout(20_000);
            socket.setTcpNoDelay(true);
            return socket;
        } catch (IOException e) {
            counts.connectFailures.incrementAndGet();
            socket.close();
            throw e;
        }
    }

    private static void churn(Counts counts) throws IOException {
        byte[] message = random(1 << ThreadLocalRandom.current().nextInt(17)); // 1 B .. 64 KiB
        try (Socket socket = connect(counts)) {
            socket.getOutputStream().write(message);
            verify(counts, socket.getInputStream(), message);
        }
    }

    private static void reset(Counts counts) throws IOException {
        try (Socket socket = connect(counts)) {
            socket.getOutputStream().write(random(32 * 1024));
            socket.getInputStream().readNBytes(1024);
            socket.setSoLinger(true, 0);
            counts.resets.incrementAndGet();
        }
    }

    private static void halfCloseSlowReader(Counts counts) throws Exception {
        byte[] message = random(64 * 1024);
        try (Socket socket = connect(counts)) {
            socket.getOutputStream().write(message);
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            byte[] echo = new byte[message.length];
            int read = 0;
            while (read < echo.length) {
                int n = in.read(echo, read, Math.min(1024, echo.length - read));
                if (n < 0) {
                    break;
                }
                read += n;
                Thread.sleep(2); // 1 KiB every 2 ms: the server's writes block on a full window
            }
            record(counts, message, Arrays.copyOf(echo, read), read == echo.length && in.read() >= 0);
        }
    }

    private static void pipeline(Counts counts) throws Exception {
        int messages = 5_000;
        byte[] all = random(messages * 64);
        try (Socket socket = connect(counts)) {
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    for (int i = 0; i < messages; i++) {
                        out.write(all, i * 64, 64);
                    }
                } catch (IOException e) {
                    // the reader below sees the short echo
                }
            });
            verify(counts, socket.getInputStream(), all);
            writer.join();
        }
    }

    /** Writes and never reads: the server stops reading too, and its idle timeout ends the connection. */
    private static void flood(Counts counts) throws IOException {
        byte[] chunk = random(64 * 1024);
        try (Socket socket = connect(counts)) {
            OutputStream out = socket.getOutputStream();
            try {
                for (int i = 0; i < 1_000; i++) { // 64 MiB at most; the socket buffers fill long before
                    out.write(chunk);
                }
            } catch (SocketException closedByTheServer) {
                counts.floodersClosed.incrementAndGet();
            }
        }
    }

    /** 200 silent connections, held until the server's idle timeout closes every one of them. */
    private static void holdIdle(Counts counts) throws IOException {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                held.add(connect(counts));
            }
            for (Socket socket : held) {
                socket.setSoTimeout((int) IDLE_TIMEOUT.toMillis() * 4);
                if (socket.getInputStream().read() < 0) {
                    counts.idleClosed.incrementAndGet();
                }
            }
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
    }

    private static void verify(Counts counts, InputStream in, byte[] expected) throws IOException {
        record(counts, expected, in.readNBytes(expected.length), false);
    }

    /**
     * Verified if {@code echo} is {@code expected} and the stream ended where it should; cut short if it is
     * a true prefix (the server's idle timeout may end a connection the loaded machine stalled); wrong if
     * any byte differs.
     */
    private static void record(Counts counts, byte[] expected, byte[] echo, boolean extra) {
        if (!Arrays.equals(expected, 0, echo.length, echo, 0, echo.length) || extra) {
            counts.wrong.incrementAndGet();
        } else if (echo.length < expected.length) {
            counts.cutShort.incrementAndGet();
        } else {
            counts.verified.incrementAndGet();
        }
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }

    private static void awaitListening(Process server) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), PORT), 200);
                break;
            } catch (IOException notYet) {
                if (!server.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the server did not start listening on " + PORT);
                }
                Thread.sleep(100);
            }
        }
        Thread.sleep(1_000); // let it finish starting (the probe is a connection too)
    }

    private static long openFiles(long pid) throws IOException {
        try (var entries = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return entries.count();
        }
    }

    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-z_]+)\\{[^}]*} (\\d+)$");

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static Map<String, Long> metrics() {
        try {
            String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + METRICS_PORT + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Long> samples = new java.util.HashMap<>();
            Matcher m = SAMPLE.matcher(text);
            while (m.find()) {
                samples.put(m.group(1), Long.parseLong(m.group(2)));
            }
            return samples;
        } catch (IOException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
    }

    /** The "Total: reserved=..., committed=..." line of {@code jcmd PID VM.native_memory summary}. */
    /** A full GC lets G1 shrink the heap it committed; its uncommit follows the GC, so wait for the RSS to settle. */
    private long rssAfterFullGc(long pid, ProcStats proc) throws IOException, InterruptedException {
        jcmd(pid, "GC.run");
        long rss = proc.rssBytes();
        for (int i = 0; i < 20; i++) { // at most 5 s: until two readings 250 ms apart agree within 1 MiB
            Thread.sleep(250);
            long next = proc.rssBytes();
            if (Math.abs(next - rss) < (1 << 20)) {
                return next;
            }
            rss = next;
        }
        return rss;
    }

    /** What this JDK's {@code jcmd PID COMMAND...} printed. */
    private String jcmd(long pid, String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of(java.resolveSibling("jcmd").toString(), String.valueOf(pid)));
        line.addAll(List.of(command));
        Process p = new ProcessBuilder(line).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return output;
    }

    private String nmtTotal(long pid) throws IOException, InterruptedException {
        String output = jcmd(pid, "VM.native_memory", "summary");
        Matcher total = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB").matcher(output);
        return total.find() ? mib(Long.parseLong(total.group(2)) * 1024) + " committed" : "n/a";
    }

    private static String table(List<Result> results, Duration duration, List<String> jvmOptions) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Soak: %ds of mixed abuse per engine (`./run.sh soak --duration %ds`), "
                + "server idle timeout %ds, JVM options: %s%s; end = %ds after the load stopped.%n%n",
                duration.toSeconds(), duration.toSeconds(), IDLE_TIMEOUT.toSeconds(),
                jvmOptions.isEmpty() ? "none" : "`" + String.join(" ", jvmOptions) + "`",
                results.isEmpty() || results.get(0).nmtStart().isEmpty() ? "" : " plus NMT", SETTLE.toSeconds()));
        md.append("| engine | verified echoes | wrong | cut short | resets | idle closed | flooders closed | RSS start / peak / end / after a full GC "
                + "| NMT start / end | buffers peak / in use at end / pooled at end | allocation failures "
                + "| fds start / peak / end | threads start / peak / end | result |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Result r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %,d | %,d | %s / %s / %s / %s | %s | %s / %s / %s | %,d "
                            + "| %d / %d / %d | %d / %d / %d | %s |%n",
                    r.engine(), r.counts().verified.get(), r.counts().wrong.get(), r.counts().cutShort.get(),
                    r.counts().resets.get(),
                    r.counts().idleClosed.get(), r.counts().floodersClosed.get(),
                    mib(r.rss().start), mib(r.rss().peak), mib(r.rss().end), mib(r.rss().afterGc),
                    r.nmtStart().isEmpty() ? "–" : r.nmtStart() + " / " + r.nmtEnd(),
                    mib(r.bufferPeak()), mib(r.bufferInUseEnd()), mib(r.bufferPooledEnd()), r.allocationFailures(),
                    r.fds().start, r.fds().peak, r.fds().end, r.threads().start, r.threads().peak, r.threads().end,
                    r.problems().isEmpty() ? "ok" : "**" + String.join("; ", r.problems()) + "**"));
        }
        return md.toString();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
