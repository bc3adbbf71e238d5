package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.Supervision;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract both supervisors keep, checked on each: the plain one always, the StructuredTaskScope
 * one in the JVM where it loads (the build's second test run, with --enable-preview on JDK 25).
 */
@Timeout(30)
class ConnectionSupervisorContractTest {

    private static final ThreadFactory VIRTUAL = Thread.ofVirtual().name("contract-", 1).factory();

    static List<Named<Function<ThreadFactory, ConnectionSupervisor>>> supervisors() {
        List<Named<Function<ThreadFactory, ConnectionSupervisor>>> all = new ArrayList<>();
        all.add(Named.of("thread-per-task executor", ExecutorSupervisor::new));
        if (ConnectionSupervisor.available() == Supervision.STRUCTURED_TASK_SCOPE) {
            all.add(Named.of("StructuredTaskScope", threads -> ConnectionSupervisor.open("contract", threads)));
        }
        return all;
    }

    @ParameterizedTest
    @MethodSource("supervisors")
    void joinReturnsOnlyWhenEveryForkedConnectionHasEnded(Function<ThreadFactory, ConnectionSupervisor> open)
            throws InterruptedException {
        int connections = 50;
        CountDownLatch allStarted = new CountDownLatch(connections);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger ended = new AtomicInteger();
        try (ConnectionSupervisor supervisor = open.apply(VIRTUAL)) {
            for (int i = 0; i < connections; i++) {
                supervisor.fork(() -> {
                    allStarted.countDown();
                    awaitQuietly(release);
                    ended.incrementAndGet();
                });
            }
            assertTrue(allStarted.await(10, TimeUnit.SECONDS));
            Thread.ofVirtual().start(release::countDown); // released by another thread, while we join
            supervisor.join();
            assertEquals(connections, ended.get(), "join returned before every connection ended");
        }
    }

    @ParameterizedTest
    @MethodSource("supervisors")
    void closeWithoutJoinInterruptsEveryConnectionAndWaitsForIt(Function<ThreadFactory, ConnectionSupervisor> open)
            throws InterruptedException {
        int connections = 20;
        CountDownLatch allBlocked = new CountDownLatch(connections);
        AtomicInteger interruptedAndEnded = new AtomicInteger();
        ConnectionSupervisor supervisor = open.apply(VIRTUAL);
        for (int i = 0; i < connections; i++) {
            supervisor.fork(() -> {
                allBlocked.countDown();
                try {
                    new CountDownLatch(1).await(); // a connection that never ends by itself
                } catch (InterruptedException e) {
                    sleepUninterruptibly(Duration.ofMillis(20)); // close() must wait for this, too
                    interruptedAndEnded.incrementAndGet();
                }
            });
        }
        assertTrue(allBlocked.await(10, TimeUnit.SECONDS));
        supervisor.close(); // the forced stop: no join() first
        assertEquals(connections, interruptedAndEnded.get(), "close() returned with connection threads still running");
    }

    @ParameterizedTest
    @MethodSource("supervisors")
    void onlyTheThreadThatOpenedItMayForkOrClose(Function<ThreadFactory, ConnectionSupervisor> open) {
        try (ConnectionSupervisor supervisor = open.apply(VIRTUAL)) {
            CompletableFuture<Throwable> fork = new CompletableFuture<>();
            CompletableFuture<Throwable> close = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                fork.complete(thrownBy(() -> supervisor.fork(() -> { })));
                close.complete(thrownBy(supervisor::close));
            });
            assertInstanceOf(WrongThreadException.class, fork.join());
            assertInstanceOf(WrongThreadException.class, close.join());
        }
    }

    private static Throwable thrownBy(Runnable action) {
        try {
            action.run();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepUninterruptibly(Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(deadline - System.nanoTime());
        }
    }
}
