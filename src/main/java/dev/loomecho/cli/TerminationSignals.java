package dev.loomecho.cli;

import dev.loomecho.EchoServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT (Ctrl-C) into a graceful stop of {@code serve}. A plain shutdown hook would
 * also run the drain, but the JVM then exits with 128+signal; handling the signals ourselves lets
 * {@code serve} drain, return normally and exit 0, which is what process supervisors expect from a clean stop.
 *
 * <p>Installed before anything slow (reading key files, binding): a signal that arrives while the server
 * starts would otherwise get the JVM's default, an exit at once with no drain and no "stopped" line. It
 * is kept until the server exists, which is then closed as soon as it has started. The first signal
 * stops; a later one is logged, saying what is still going on, so a second Ctrl-C is not met with silence.
 * A second signal while the start is still not done ends the process at once (exit 128+signal): a start
 * that never completes (a key file on a pipe or a hung mount) could otherwise be ended only by SIGKILL.
 * {@link #close()} puts the previous handlers back (tests run {@code serve} inside their own JVM).
 */
final class TerminationSignals implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TerminationSignals.class);
    /** In place of a signal number: the shutdown hook, which runs while the JVM exits and waits for the drain. */
    private static final int FROM_HOOK = -1;

    private final ReentrantLock lock = new ReentrantLock();
    private final List<Runnable> uninstall = new ArrayList<>();
    private String firstSignal; // guarded by lock; null until a signal arrives
    private EchoServer server; // guarded by lock; null until started

    private TerminationSignals() {
    }

    /**
     * Handles SIGTERM and SIGINT from now on; where a signal cannot be handled (reserved, e.g. INT under
     * some debuggers), a shutdown hook stops the server instead, as "shutdown".
     */
    static TerminationSignals install() {
        TerminationSignals signals = new TerminationSignals();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal signal = new Signal(name);
            try {
                SignalHandler previous = Signal.handle(signal,
                        received -> signals.stop("SIG" + received.getName(), received.getNumber()));
                signals.uninstall.add(() -> Signal.handle(signal, previous));
            } catch (IllegalArgumentException unavailable) {
                // The hook runs while the JVM exits, so it closes the server itself and waits for the drain.
                Thread hook = Thread.ofPlatform().name("loom-echo-shutdown").unstarted(() -> signals.stop("shutdown", FROM_HOOK));
                Runtime.getRuntime().addShutdownHook(hook);
                signals.uninstall.add(() -> removeHook(hook));
            }
        }
        return signals;
    }

    /**
     * The server has started: from now on a signal closes it; if one came during the start, it is closed
     * now, on this thread, so it is closing when this returns. Called from {@code beforeReady}, so
     * {@code /ready} goes from "starting" to "draining" without a moment of 200.
     */
    void started(EchoServer started) {
        String signal;
        lock.lock();
        try {
            server = started;
            signal = firstSignal;
        } finally {
            lock.unlock();
        }
        if (signal != null) {
            started.close();
        }
    }

    /** What stopped the server, for the "stopped" line: {@code SIGTERM}, {@code SIGINT}, {@code shutdown}. */
    String stoppedBy() {
        lock.lock();
        try {
            return firstSignal == null ? "close" : firstSignal;
        } finally {
            lock.unlock();
        }
    }

    /** {@code number} is the signal's, or {@link #FROM_HOOK}. */
    private void stop(String signal, int number) {
        EchoServer toClose;
        String first;
        lock.lock();
        try {
            first = firstSignal;
            if (first == null) {
                firstSignal = signal;
            }
            toClose = server;
        } finally {
            lock.unlock();
        }
        if (first != null && toClose == null && number != FROM_HOOK) {
            // Only recorded, it would wait for a start that may never end; halt, as the JVM's default would have.
            log.warn("{} received while still starting (stopping on {} once started): ending the process at once, exit {}",
                    signal, first, 128 + number);
            Runtime.getRuntime().halt(128 + number);
        } else if (first != null) {
            log.warn("{} received while already stopping on {}: {}", signal, first, toClose == null
                    ? "the server stops as soon as it has started"
                    : "open connections may finish until the drain timeout ("
                            + DurationConverter.format(toClose.config().drainTimeout())
                            + ") passes, then are closed; SIGKILL (kill -9) ends the process at once");
        } else if (toClose == null) {
            log.info("{} received during start: stopping as soon as the server has started "
                    + "(a second signal before then ends the process at once)", signal);
        } else {
            log.info("{} received: stopping accepting, draining open connections", signal);
            if (number == FROM_HOOK) {
                toClose.close();
            } else {
                closeOnItsOwnThread(toClose);
            }
        }
    }

    /** The signal's thread only starts the close: {@code serve}'s own thread waits for it in awaitClosed(). */
    private static void closeOnItsOwnThread(EchoServer server) {
        Thread.ofPlatform().name("loom-echo-shutdown").start(server::close);
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException exiting) {
            // the JVM is exiting already: the hook runs, and closing twice is harmless
        }
    }

    /** Puts back whatever handled these signals before. */
    @Override
    public void close() {
        uninstall.forEach(Runnable::run);
    }
}
