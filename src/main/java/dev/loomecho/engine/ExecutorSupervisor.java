package dev.loomecho.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The supervisor on every JDK 21+: a thread-per-task executor tracks each connection's thread, waits
 * for them on {@link #join()}, interrupts and waits for them on {@link #close()}. Like the scope, it
 * belongs to the thread that opened it, so a misuse shows up here too and not only under preview.
 */
final class ExecutorSupervisor implements ConnectionSupervisor {

    private final ExecutorService threads;
    private final Thread owner = Thread.currentThread();

    ExecutorSupervisor(ThreadFactory threads) {
        this.threads = Executors.newThreadPerTaskExecutor(threads);
    }

    @Override
    public void fork(Runnable connection) {
        requireOwner();
        threads.execute(connection);
    }

    @Override
    public void join() throws InterruptedException {
        requireOwner();
        threads.shutdown();
        threads.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        requireOwner();
        threads.shutdownNow();
        threads.close(); // waits until every thread has ended
    }

    private void requireOwner() {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("only " + owner + ", which opened the supervisor, may use it");
        }
    }
}
