import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jdk.jfr.Recording;
import jdk.jfr.ValueDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * What still holds a carrier: the virtual engine on ONE carrier, a client measuring echo round trips from a
 * platform thread, and beside the server, in the same JVM, one virtual thread that does something for a
 * second. Virtual threads share the scheduler, so whatever that thread does to its carrier, it does to every
 * connection: a CPU-bound task is never preempted (JEP 444: no time slicing); a thread blocking while pinned
 * keeps the carrier as an OS thread would. JFR's {@code jdk.VirtualThreadPinned} event names each pinned wait.
 *
 * <p>Run with a JDK 21+, named (a bare {@code java} may be older, as Debian 12's 17 is):
 * {@code /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -Djdk.virtualThreadScheduler.parallelism=1 -cp target/loom-echo.jar lab/Pinning.java}
 * ({@code ./run.sh lab} runs it with the JDK it finds). Which waits pin depends on the JDK, and the program says so.
 */
public class Pinning {

    private static final Duration WORK = Duration.ofSeconds(1);
    private static final Duration PROBE = Duration.ofMillis(1_500);
    private static final Object MONITOR = new Object();

    private record Exercise(String name, Runnable work, Instant from, Instant to, long worstMillis, int roundTrips) {
    }

    public static void main(String[] args) throws Exception {
        String parallelism = System.getProperty("jdk.virtualThreadScheduler.parallelism", "");
        if (!parallelism.equals("1")) {
            System.out.println("note: run with -Djdk.virtualThreadScheduler.parallelism=1 to see one carrier held; "
                    + "now it is " + (parallelism.isEmpty() ? "the CPU count" : parallelism));
        }
        Path jfr = Files.createTempFile("loom-echo-pinning", ".jfr");
        List<Exercise> done = new ArrayList<>();
        try (Recording recording = new Recording()) {
            recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            recording.start();
            try (EchoServer echo = EchoServer.builder().port(0).engine(Engine.VIRTUAL).drainTimeout(Duration.ZERO).start();
                 Socket client = new Socket("127.0.0.1", echo.port())) {
                client.setSoTimeout(10_000);
                for (int i = 0; i < 20; i++) {
                    roundTripMillis(client); // the first round trips start the connection's thread and the pollers
                }
                done.add(run("nothing else runs", () -> { }, client));
                done.add(run("CPU-bound: a virtual thread computes for 1 s", Pinning::compute, client));
                done.add(run("synchronized: a virtual thread sleeps 1 s holding a monitor", Pinning::sleepHoldingMonitor, client));
                done.add(run("class initializer: a virtual thread sleeps 1 s in <clinit>", SlowInit::touch, client));
            }
            recording.stop();
            recording.dump(jfr);
        }
        List<RecordedEvent> pinned = RecordingFile.readAllEvents(jfr).stream() // the server's own events are in it too
                .filter(e -> e.getEventType().getName().equals("jdk.VirtualThreadPinned")).toList();
        Files.delete(jfr);
        print(done, pinned);
    }

    /** Starts {@code work} on a virtual thread and measures echo round trips from this platform thread meanwhile. */
    private static Exercise run(String name, Runnable work, Socket client) throws Exception {
        Instant from = Instant.now();
        Thread worker = Thread.ofVirtual().name("lab-work").start(work);
        long worst = 0;
        int roundTrips = 0;
        long end = System.nanoTime() + PROBE.toNanos();
        while (System.nanoTime() < end) {
            worst = Math.max(worst, roundTripMillis(client));
            roundTrips++;
            Thread.sleep(20);
        }
        worker.join();
        return new Exercise(name, work, from, Instant.now(), worst, roundTrips);
    }

    private static long roundTripMillis(Socket client) throws IOException {
        byte[] message = "lab-ping".getBytes();
        long started = System.nanoTime();
        OutputStream out = client.getOutputStream();
        out.write(message);
        out.flush();
        InputStream in = client.getInputStream();
        for (int got = 0; got < message.length; ) {
            int n = in.read(new byte[message.length - got]);
            if (n < 0) {
                throw new IOException("the server closed the connection");
            }
            got += n;
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static volatile long sink;

    private static void compute() {
        long end = System.nanoTime() + WORK.toNanos();
        long x = 0;
        while (System.nanoTime() < end) {
            x += Long.numberOfTrailingZeros(x + 1); // busy, and never parks
        }
        sink = x;
    }

    private static void sleepHoldingMonitor() {
        synchronized (MONITOR) {
            sleep(); // JDK 21-23: pins (the monitor is held); JDK 24+ (JEP 491): unmounts
        }
    }

    /** Its static initializer sleeps: the VM runs it from a native frame, so the virtual thread cannot unmount. */
    private static final class SlowInit {
        static {
            sleep();
        }

        static void touch() {
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(WORK);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void print(List<Exercise> done, List<RecordedEvent> pinned) {
        System.out.printf(Locale.ROOT, "one carrier (parallelism %s), Java %s: the worst echo round trip while another "
                + "virtual thread works for %d ms%n", System.getProperty("jdk.virtualThreadScheduler.parallelism", "default"),
                Runtime.version(), WORK.toMillis());
        for (Exercise e : done) {
            long events = pinned.stream().filter(p -> within(p, e)).count();
            System.out.printf(Locale.ROOT, "  %-62s worst %,6d ms (%d round trips)  jdk.VirtualThreadPinned: %d%n",
                    e.name(), e.worstMillis(), e.roundTrips(), events);
        }
        for (RecordedEvent event : pinned) {
            String during = done.stream().filter(e -> within(event, e)).map(Exercise::name).findFirst().orElse("?");
            System.out.printf(Locale.ROOT, "  jdk.VirtualThreadPinned, %d ms, during «%s»:%n",
                    event.getDuration().toMillis(), during);
            for (ValueDescriptor field : event.getFields()) {
                String name = field.getName();
                if (!List.of("startTime", "duration", "eventThread", "stackTrace").contains(name)) {
                    System.out.printf(Locale.ROOT, "      %s = %s%n", name, event.getValue(name) instanceof Object v
                            ? v.toString().replaceAll("\\s+", " ") : "");
                }
            }
            if (event.getStackTrace() != null) {
                for (RecordedFrame frame : event.getStackTrace().getFrames().subList(0,
                        Math.min(12, event.getStackTrace().getFrames().size()))) {
                    System.out.printf(Locale.ROOT, "      at %s.%s (%s)%n", frame.getMethod().getType().getName(),
                            frame.getMethod().getName(), frame.getType());
                }
            }
        }
    }

    private static boolean within(RecordedEvent event, Exercise exercise) {
        return !event.getStartTime().isBefore(exercise.from()) && !event.getStartTime().isAfter(exercise.to());
    }
}
