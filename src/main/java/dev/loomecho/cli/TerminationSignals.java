package dev.loomecho.cli;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT (Ctrl-C) into a graceful stop. A plain shutdown hook would also run the
 * drain, but the JVM then exits with 128+signal; handling the signals ourselves lets {@code serve}
 * drain, return normally and exit 0, which is what process supervisors expect from a clean stop.
 */
final class TerminationSignals {

    private static final Logger log = LoggerFactory.getLogger(TerminationSignals.class);

    private TerminationSignals() {
    }

    /**
     * Runs {@code stop} on a new thread at the first SIGTERM or SIGINT, with the signal's name
     * ({@code SIGTERM}); where a signal cannot be handled, from a shutdown hook, with "shutdown".
     */
    static void onTermination(Consumer<String> stop) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signal -> {
                    log.info("SIG{} received: stopping accepting, draining open connections", signal.getName());
                    Thread.ofPlatform().name("loom-echo-shutdown").start(() -> stop.accept("SIG" + signal.getName()));
                });
            } catch (IllegalArgumentException unavailable) {
                // The signal is reserved here (e.g. INT under some debuggers); fall back to a shutdown hook.
                Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("loom-echo-shutdown")
                        .unstarted(() -> stop.accept("shutdown")));
            }
        }
    }
}
