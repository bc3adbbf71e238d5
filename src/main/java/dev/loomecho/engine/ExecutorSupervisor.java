package dev.loomecho.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The supervisor on every JDK 21+: a thread-per-task executor tracks each connection's thread, waits
 * for them on {@link #join()}, interrupts and waits for them on {@link #close()}.
 */
final class ExecutorSupervisor implements ConnectionSupervisor {

    private final ExecutorService threads;

    ExecutorSupervisor(ThreadFactory threads) {
        this.threads = Executors.newThreadPerTaskExecutor(threads);
    }

    @Override
    public void fork(Runnable connection) {
        threads.execute(connection);
    }

    @Override
    public void join() throws InterruptedException {
        threads.shutdown();
        threads.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        threads.shutdownNow();
        threads.close(); // waits until every thread has ended
    }
}
