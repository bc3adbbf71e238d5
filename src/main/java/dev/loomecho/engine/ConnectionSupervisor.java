package dev.loomecho.engine;

import dev.loomecho.Supervision;
import java.util.concurrent.ThreadFactory;

/**
 * Runs each connection on a thread of its own and lets none outlive it — what a thread-per-connection
 * engine's accept loop forks connections into. Like {@code StructuredTaskScope}, whose contract this is,
 * only the thread that opened a supervisor may fork, join and close it: the accept loop owns it.
 */
public interface ConnectionSupervisor extends AutoCloseable {

    /**
     * A supervisor whose threads come from {@code threads}: a {@code StructuredTaskScope} named
     * {@code name} where the JVM offers one, a thread-per-task executor everywhere else.
     */
    static ConnectionSupervisor open(String name, ThreadFactory threads) {
        return Supervisors.open(name, threads);
    }

    /** Which kind {@link #open} returns in this JVM. */
    static Supervision available() {
        return Supervisors.available();
    }

    /** Starts serving one connection on a new thread. */
    void fork(Runnable connection);

    /** Waits until every forked connection has ended. Call once, after the last fork. */
    void join() throws InterruptedException;

    /** Interrupts the connections still running (an interrupted blocking socket call closes its socket) and waits for them. */
    @Override
    void close();
}
