import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import javax.management.ObjectName;

/**
 * The heap one parked virtual thread holds, and nothing else: COUNT virtual threads each parked in
 * {@code LockSupport.park()} straight from its task (the shallowest stack a thread can park with), measured
 * by the JVM's class histogram (what {@code jcmd PID GC.class_histogram} prints, after the full GC it runs)
 * before they start and while they are parked, the difference divided by COUNT.
 *
 * <p>Twice: cold, in a fresh JVM, when the park path still runs in the interpreter; then warm, after enough
 * start-park-unpark cycles for the JIT to compile it. A parked virtual thread's frames are copied to its
 * {@code StackChunk} as they are, and interpreted frames are larger than compiled ones.
 *
 * <p>Run with a JDK 21+, named: {@code /usr/lib/jvm/temurin-25-jdk-amd64/bin/java lab/VirtualThreadMemory.java [COUNT]}
 * (or {@code $JAVA_HOME/bin/java} for another JDK 21+). A bare {@code java} may be older, as Debian 12's 17
 * is, which cannot compile this file; {@code ./run.sh lab} runs it with the JDK it finds.
 */
public class VirtualThreadMemory {

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Map<String, Long> cold = perThread(count);
        for (int cycles = 0; cycles < 200_000; cycles += count) { // warm-up: let the JIT compile start, park, unpark
            perThreadWithoutMeasuring(count);
        }
        Map<String, Long> warm = perThread(count);
        print(count, cold, warm);
    }

    /** Bytes per parked thread, by class, and under "total" the histogram's Total line. */
    private static Map<String, Long> perThread(int count) throws Exception {
        histogram(); // the first full GC queues the Cleaners of what the last round left; let them run
        Thread.sleep(200);
        Map<String, Long> before = histogram();
        List<Thread> threads = startParked(count);
        Map<String, Long> during = histogram();
        release(threads);
        Map<String, Long> perThread = new HashMap<>();
        for (Map.Entry<String, Long> entry : during.entrySet()) {
            long grew = entry.getValue() - before.getOrDefault(entry.getKey(), 0L);
            perThread.put(entry.getKey(), Math.round((double) grew / count));
        }
        return perThread;
    }

    private static void perThreadWithoutMeasuring(int count) throws InterruptedException {
        release(startParked(count));
    }

    private static volatile boolean released;

    private static List<Thread> startParked(int count) throws InterruptedException {
        released = false;
        List<Thread> threads = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (!released) {
                    LockSupport.park(); // may return spuriously: park again until released
                }
            }));
        }
        long deadline = System.nanoTime() + 30_000_000_000L;
        for (Thread thread : threads) {
            while (thread.getState() != Thread.State.WAITING) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("threads did not park within 30 s");
                }
                Thread.sleep(1);
            }
        }
        return threads;
    }

    private static void release(List<Thread> threads) throws InterruptedException {
        released = true;
        threads.forEach(LockSupport::unpark);
        for (Thread thread : threads) {
            thread.join();
        }
    }

    /** The class histogram (bytes by class name, and "total"), from the DiagnosticCommand MBean jcmd also uses. */
    private static Map<String, Long> histogram() throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        Map<String, Long> bytes = new HashMap<>();
        for (String line : text.lines().toList()) {
            String[] fields = line.trim().split("\\s+");
            // Fillers pad the heap where an allocation buffer ended: no object of anyone's, so not counted.
            if (fields.length >= 4 && fields[0].endsWith(":") && !fields[3].contains("jdk.internal.vm.Filler")) {
                long size = Long.parseLong(fields[2]);
                bytes.merge(fields[3].replaceAll("/0x[0-9a-f]+$", ""), size, Long::sum); // a lambda's class: its address varies
                bytes.merge("total", size, Long::sum);
            }
        }
        return bytes;
    }

    private static void print(int count, Map<String, Long> cold, Map<String, Long> warm) {
        System.out.printf(Locale.ROOT, "heap per parked virtual thread (%,d threads parked in LockSupport.park(), "
                + "class histogram after a full GC, Java %s)%n", count, Runtime.version());
        System.out.printf(Locale.ROOT, "  %-50s %8s %8s%n", "class", "cold", "warm");
        warm.entrySet().stream()
                .filter(e -> !e.getKey().equals("total") && Math.max(e.getValue(), cold.getOrDefault(e.getKey(), 0L)) >= 8)
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .forEach(e -> System.out.printf(Locale.ROOT, "  %-50s %,6d B %,6d B%n",
                        e.getKey(), cold.getOrDefault(e.getKey(), 0L), e.getValue()));
        System.out.printf(Locale.ROOT, "  %-50s %,6d B %,6d B%n", "total (every class but the fillers)",
                cold.get("total"), warm.get("total"));
    }
}
