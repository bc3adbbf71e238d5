package dev.loomecho.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What Linux's /proc says about a server process: CPU time (user + system, every thread, dead ones
 * included), context switches (summed over its live threads), thread count and resident memory.
 */
record ProcStats(long pid) {

    private static final long CLOCK_TICKS_PER_SECOND = clockTicks();

    /** A snapshot of the counters that a scenario's difference is taken over. */
    record Sample(long cpuNanos, long contextSwitches) {
        Sample minus(Sample before) {
            return new Sample(cpuNanos - before.cpuNanos, contextSwitches - before.contextSwitches);
        }
    }

    Sample sample() throws IOException {
        return new Sample(cpuNanos(), contextSwitches());
    }

    /** utime + stime of /proc/PID/stat (fields 14 and 15), which count every thread the process ever had. */
    long cpuNanos() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return ticks * TimeUnit.SECONDS.toNanos(1) / CLOCK_TICKS_PER_SECOND;
    }

    /**
     * Voluntary + involuntary context switches of every live thread (/proc/PID/task/TID/status). A
     * thread that ended takes its count along, so engines that start and end threads per connection
     * (platform, under churn) are undercounted there.
     */
    long contextSwitches() throws IOException {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException threadEnded) {
                    // the thread ended between listing and reading: its count is gone with it
                }
            }
        }
        return total;
    }

    long threads() throws IOException {
        return statusField("Threads:");
    }

    long rssBytes() throws IOException {
        return statusField("VmRSS:") * 1024;
    }

    private long statusField(String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(name)) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        throw new IllegalStateException("no " + name + " for " + pid);
    }

    /**
     * How busy CPU {@code cpu} was between two samples of {@code /proc/stat}: 1.0 means no idle time. It
     * counts what a process's own CPU time leaves out — the kernel's softirq work for loopback packets,
     * other processes — so it shows whether the core itself, not just the process, was saturated.
     */
    record CoreSample(long busy, long total) {
        double busySince(CoreSample before) {
            long total = this.total - before.total;
            return total <= 0 ? 0 : (double) (busy - before.busy) / total;
        }
    }

    /** The sum over {@code cpus}, a taskset list such as "1" or "0,1". */
    static CoreSample cores(String cpus) throws IOException {
        long busy = 0;
        long total = 0;
        for (String cpu : cpus.split(",")) {
            CoreSample one = core(Integer.parseInt(cpu.trim()));
            busy += one.busy();
            total += one.total();
        }
        return new CoreSample(busy, total);
    }

    static CoreSample core(int cpu) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
            if (line.startsWith("cpu" + cpu + " ")) {
                String[] f = line.trim().split("\\s+");
                long total = 0;
                for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
                    total += Long.parseLong(f[i]);
                }
                long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
                return new CoreSample(total - idle, total);
            }
        }
        throw new IllegalStateException("no cpu" + cpu + " line in /proc/stat");
    }

    private static long clockTicks() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").start();
            String ticks = new String(getconf.getInputStream().readAllBytes()).trim();
            getconf.waitFor();
            return Long.parseLong(ticks);
        } catch (IOException | NumberFormatException e) {
            return 100; // Linux's USER_HZ on every common build
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
