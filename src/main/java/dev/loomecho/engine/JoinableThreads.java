package dev.loomecho.engine;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;

/**
 * Named platform threads for a pool (an {@code AsynchronousChannelGroup}, a scheduled executor), kept so
 * they can be joined: a pool reports itself terminated while its last threads are still on their way
 * out, and {@code close()} promises that no thread is left when it returns.
 */
final class JoinableThreads implements ThreadFactory {

    private final ThreadFactory factory;
    private final Queue<Thread> threads = new ConcurrentLinkedQueue<>();

    JoinableThreads(String namePrefix, boolean numbered) {
        Thread.Builder.OfPlatform builder = Thread.ofPlatform().daemon();
        this.factory = (numbered ? builder.name(namePrefix, 1) : builder.name(namePrefix)).factory();
    }

    @Override
    public Thread newThread(Runnable task) {
        Thread thread = factory.newThread(task);
        threads.add(thread);
        return thread;
    }

    /** Waits for every thread made here to end; call once the pool has terminated. */
    void join() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join();
        }
    }
}
