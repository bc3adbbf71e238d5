package dev.loomecho.load;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLSocket;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives any echo server: opens connections on virtual threads, sends random messages, verifies every
 * echoed byte, and records each message's round-trip latency in an HdrHistogram {@link Recorder}.
 * A connection succeeds only once its echo was exact <em>and</em> the server, after the client's
 * half-close, closed without sending anything more; every wait for the server is bounded by the
 * {@linkplain LoadOptions#timeout() timeout}. Anything else is a failure, counted with its {@link Failure cause}.
 */
public final class LoadGenerator {

    /**
     * A batch up to this size, and up to half the connection's own send buffer, is written, then read, by
     * one thread: it fits in that buffer, so the write returns even when the server reads nothing (a
     * socket timeout bounds reads only). Half, because the kernel counts its bookkeeping against the
     * buffer too (Linux doubles a requested SO_SNDBUF for it). Larger batches are written from a second
     * thread, which the reader, at its timeout or on a wrong byte, ends by closing the socket.
     */
    private static final int DIRECT_WRITE_LIMIT = 64 * 1024;

    private final LoadOptions options;
    private final PrintStream progress;
    private final Recorder latencies = new Recorder(3);
    private final Histogram total = new Histogram(3);
    private final LongAdder messages = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder connected = new LongAdder();
    private final LongAdder connectErrors = new LongAdder();
    private final Map<Failure, LongAdder> failures = new EnumMap<>(Failure.class);
    private final AtomicBoolean stop = new AtomicBoolean();
    /** With a duration: when the measured phase ends (System.nanoTime); set before the clients start. */
    private volatile long measuredEnd;
    /** This process's CPU time when the measured phase began; -1 if unknown. */
    private long measuredCpuStart = -1;

    /** {@code progress}: where a line per second goes on runs longer than two seconds; may be null. */
    public LoadGenerator(LoadOptions options, PrintStream progress) {
        this.options = options;
        this.progress = progress;
        for (Failure cause : Failure.values()) {
            failures.put(cause, new LongAdder());
        }
    }

    public static LoadResult run(LoadOptions options) throws InterruptedException {
        return new LoadGenerator(options, null).run();
    }

    /**
     * Runs the load and returns what it measured. Interrupted, it stops every client and the progress
     * reporter before it throws, so nothing of the run goes on behind the caller.
     */
    public LoadResult run() throws InterruptedException {
        InetSocketAddress address = new InetSocketAddress(options.host(), options.port());
        long connecting = System.nanoTime();
        Phases phases = options.driver() == LoadOptions.Driver.SELECTOR ? driveWithSelector(address) : driveWithThreads(address);
        double seconds = (System.nanoTime() - phases.measured) / 1e9;
        double cpuSeconds = measuredCpuStart < 0 ? -1 : (ProcessCpu.nanos() - measuredCpuStart) / 1e9;
        Map<Failure, Long> causes = new EnumMap<>(Failure.class);
        failures.forEach((cause, count) -> {
            if (count.sum() > 0) {
                causes.put(cause, count.sum());
            }
        });
        synchronized (total) {
            total.add(latencies.getIntervalHistogram());
            return new LoadResult(connected.sum(), connectErrors.sum(),
                    causes.values().stream().mapToLong(Long::longValue).sum(), causes, messages.sum(),
                    bytes.sum(), Math.max(seconds, 1e-9), micros(total.getValueAtPercentile(50)),
                    micros(total.getValueAtPercentile(90)), micros(total.getValueAtPercentile(99)),
                    micros(total.getValueAtPercentile(99.9)), micros(total.getMaxValue()),
                    (phases.connected - connecting) / 1e9, cpuSeconds, options.churn());
        }
    }

    /** When every connection was open (the hold begins), and when the hold ended (the measured phase begins). */
    private record Phases(long connected, long measured) {
    }

    /** Sleeps through the hold, then takes the CPU time the measured phase counts from. */
    private long holdThenMeasure(long connectedAt) throws InterruptedException {
        long measured = connectedAt + options.hold().toNanos();
        sleepUntil(measured);
        measuredCpuStart = ProcessCpu.nanos();
        return measured;
    }

    /** One selector thread drives every connection. */
    private Phases driveWithSelector(InetSocketAddress address) throws InterruptedException {
        try (SelectorDriver driver = SelectorDriver.connect(options, address, this)) {
            long connectedAt = System.nanoTime();
            Thread reporter = Thread.ofPlatform().daemon().name("loom-echo-load-progress")
                    .start(() -> reportEverySecond(connectedAt));
            try {
                long measured = holdThenMeasure(connectedAt);
                driver.run(options.duration() == null ? Long.MAX_VALUE : measured + options.duration().toNanos());
                return new Phases(connectedAt, measured);
            } finally {
                reporter.interrupt();
                joinUninterruptibly(reporter);
            }
        }
    }

    /** A virtual thread per connection (or per churning client). */
    private Phases driveWithThreads(InetSocketAddress address) throws InterruptedException {
        CountDownLatch ready = new CountDownLatch(options.connections());
        CountDownLatch go = new CountDownLatch(1);
        Phases phases;
        Thread reporter = null;
        try (ExecutorService clients = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("loom-echo-load-", 1).factory())) {
            try {
                for (int i = 0; i < options.connections(); i++) {
                    long seed = i;
                    clients.execute(options.churn()
                            ? () -> churn(address, seed, ready, go)
                            : () -> converse(address, seed, ready, go));
                }
                ready.await();
                long connectedAt = System.nanoTime();
                reporter = Thread.ofPlatform().daemon().name("loom-echo-load-progress")
                        .start(() -> reportEverySecond(connectedAt));
                phases = new Phases(connectedAt, holdThenMeasure(connectedAt)); // the connections sit idle
                measuredEnd = options.duration() == null ? 0 : phases.measured + options.duration().toNanos();
                go.countDown();
                if (options.duration() != null) {
                    sleepUntil(measuredEnd);
                    stop.set(true);
                }
                clients.shutdown();
                clients.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
            } catch (InterruptedException | RuntimeException | Error e) {
                // Release the clients still waiting for the start, and end the others' I/O, before the
                // executor's close waits for them all.
                stop.set(true);
                go.countDown();
                clients.shutdownNow();
                throw e;
            } finally {
                if (reporter != null) {
                    reporter.interrupt();
                    joinUninterruptibly(reporter);
                }
            }
        }
        return phases;
    }

    // What the drivers report, from whichever thread: the tallies behind the result.

    void connectedOne() {
        connected.increment();
    }

    void connectFailed() {
        connectErrors.increment();
    }

    /** A connection ended in failure; a hold that the server did not survive is named as such. */
    void failed(Failure cause, boolean beforeFirstEcho) {
        boolean closedByServer = cause == Failure.SHORT_ECHO || cause == Failure.RESET;
        failures.get(closedByServer && beforeFirstEcho && !options.hold().isZero() ? Failure.CLOSED_DURING_HOLD : cause)
                .increment();
    }

    /** One message of {@code size} bytes came back verified, {@code latencyNanos} after it was sent. */
    void echoed(int size, long latencyNanos) {
        latencies.recordValue(Math.max(0, latencyNanos));
        messages.increment();
        bytes.add(size);
    }

    /** Whether a message count reached, or the duration over, ends a connection after {@code sent} messages. */
    boolean done(long sent) {
        return stop.get() || options.duration() == null && sent >= options.messages();
    }

    /** One long-lived connection: batches of {@code pipeline} messages, each echo verified, then the end of the stream. */
    private void converse(InetSocketAddress address, long seed, CountDownLatch ready, CountDownLatch go) {
        Socket socket;
        try {
            socket = connect(address);
        } catch (IOException e) {
            connectErrors.increment();
            ready.countDown();
            return;
        }
        Conversation conversation = null;
        try (socket) {
            ready.countDown();
            go.await(); // after the hold
            conversation = new Conversation(socket, seed);
            long interval = options.rate() > 0 ? (long) (1e9 * options.connections() / options.rate()) : 0;
            long next = System.nanoTime();
            for (long sent = 0; !done(sent); sent += options.batch()) {
                if (interval > 0) {
                    if (options.duration() != null && next - measuredEnd >= 0) {
                        break; // the next message is due after the run: do not sleep past its end
                    }
                    sleepUntil(next); // the schedule, not the last reply, decides when to send
                    conversation.exchange(options.batch(), next);
                    next += interval;
                } else {
                    conversation.exchange(options.batch(), System.nanoTime());
                }
            }
            conversation.finish();
        } catch (Failed e) {
            failed(e.cause, conversation == null || conversation.echoedNothing());
        } catch (IOException e) {
            failed(Failure.of(e), conversation == null || conversation.echoedNothing());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            // Out of memory, say: the connection has no verdict, so it must not pass by being absent.
            failed(Failure.CLIENT_ERROR, false);
        }
    }

    /** Connect, echo one message, see the server close, repeated; latency runs from the connect to the echo. */
    private void churn(InetSocketAddress address, long seed, CountDownLatch ready, CountDownLatch go) {
        ready.countDown();
        try {
            go.await();
        } catch (InterruptedException e) {
            return;
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (long sent = 0; !done(sent); sent++) {
            long started = System.nanoTime();
            Socket socket;
            try {
                socket = connect(address);
            } catch (IOException e) {
                connectErrors.increment();
                continue;
            }
            try (socket) {
                Conversation conversation = new Conversation(socket, random.nextLong());
                conversation.exchange(1, started);
                conversation.finish();
            } catch (Failed e) {
                failed(e.cause, false);
            } catch (IOException e) {
                failed(Failure.of(e), false);
            } catch (RuntimeException | Error e) {
                failed(Failure.CLIENT_ERROR, false);
            }
        }
    }

    /** A connected socket; over TLS, its handshake done (a handshake that fails is a connect error). */
    private Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, options.timeoutMillis());
            socket.setSoTimeout(options.timeoutMillis()); // every read below waits at most this long
            if (options.tls().isPresent()) {
                SSLSocket tls = (SSLSocket) options.tls().get().getSocketFactory()
                        .createSocket(socket, options.host(), options.port(), true);
                tls.startHandshake();
                socket = tls;
            }
            connected.increment();
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** One connection's traffic: a random payload it sends slices of, and the check of what comes back. */
    private final class Conversation {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] payload;
        private final byte[] received;
        private final int size = options.size();
        private final int directWriteLimit;
        private int offset;
        private long echoedBytes;

        Conversation(Socket socket, long seed) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            int batchBytes = size * options.batch();
            this.payload = new byte[batchBytes * 2]; // two batches' worth, so consecutive batches differ
            new SplittableRandom(seed).nextBytes(payload);
            this.received = new byte[size];
            this.directWriteLimit = Math.min(DIRECT_WRITE_LIMIT, socket.getSendBufferSize() / 2);
        }

        boolean echoedNothing() {
            return echoedBytes == 0;
        }

        /**
         * Writes {@code count} messages at once, then reads and verifies each echo in turn. A batch larger
         * than the send buffer holds is written from a second virtual thread: writing it all before
         * reading would deadlock against a server that, correctly, stops reading while its echo is
         * unread, and would wait for ever on one that reads nothing.
         */
        void exchange(int count, long sentAt) throws IOException, Failed {
            int batchBytes = size * count;
            int from = offset;
            if (batchBytes <= directWriteLimit) {
                out.write(payload, from, batchBytes);
                out.flush();
                readAndVerify(count, sentAt);
            } else {
                Thread writer = Thread.ofVirtual().name("loom-echo-load-writer").start(() -> {
                    try {
                        out.write(payload, from, batchBytes);
                        out.flush();
                    } catch (IOException e) {
                        // the reader sees the connection fail too, and counts it
                    }
                });
                boolean verified = false;
                try {
                    readAndVerify(count, sentAt);
                    verified = true;
                } finally {
                    if (!verified) {
                        // The writer may be blocked for good: the server stops reading while its echo is
                        // unread, and the reader has stopped. Closing the socket ends its write.
                        socket.close();
                    }
                    joinUninterruptibly(writer);
                }
            }
            offset = offset == 0 ? batchBytes : 0;
        }

        private void readAndVerify(int count, long sentAt) throws IOException, Failed {
            for (int i = 0; i < count; i++) {
                int read = in.readNBytes(received, 0, size);
                if (read < size) {
                    throw new Failed(Failure.SHORT_ECHO);
                }
                int from = offset + i * size;
                if (Arrays.mismatch(received, 0, size, payload, from, from + size) >= 0) {
                    throw new Failed(Failure.WRONG_BYTE);
                }
                echoedBytes += size;
                echoed(size, System.nanoTime() - sentAt);
            }
        }

        /**
         * Half-closes, then waits for the server to close: only its end of the stream proves that nothing
         * followed the echo. Anything read before it is a byte the server made up.
         */
        void finish() throws IOException, Failed {
            socket.shutdownOutput();
            int next;
            try {
                next = in.read();
            } catch (SocketTimeoutException e) {
                throw new Failed(Failure.NOT_CLOSED);
            }
            if (next >= 0) {
                throw new Failed(Failure.EXTRA_BYTES);
            }
        }
    }

    private static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** A connection failed for {@code cause}; thrown without a stack trace, as control flow. */
    private static final class Failed extends Exception {
        final Failure cause;

        Failed(Failure cause) {
            super(cause.description(), null, false, false);
            this.cause = cause;
        }
    }

    private void reportEverySecond(long start) {
        boolean longRun = options.duration() == null || options.duration().plus(options.hold()).toMillis() > 2_000;
        long lastMessages = 0;
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(1_000);
                Histogram interval = latencies.getIntervalHistogram();
                synchronized (total) {
                    total.add(interval);
                }
                long now = messages.sum();
                if (progress != null && longRun && System.nanoTime() - start > 2_000_000_000L) {
                    progress.printf(Locale.ROOT, "[%3.0fs] %,10d msgs/s  p99 %8.1f µs  connected %,d  failures %,d%n",
                            (System.nanoTime() - start) / 1e9, now - lastMessages,
                            micros(interval.getValueAtPercentile(99)), connected.sum(),
                            failures.values().stream().mapToLong(LongAdder::sum).sum());
                }
                lastMessages = now;
            }
        } catch (InterruptedException e) {
            // the run is over
        }
    }

    /** Parks until {@code deadline}; an interrupt ends it (parkNanos alone would return at once, and spin). */
    static void sleepUntil(long deadline) throws InterruptedException {
        long remaining;
        while ((remaining = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(remaining);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private static double micros(long nanos) {
        return nanos / 1_000.0;
    }
}
