package dev.loomecho.engine;

import java.util.concurrent.StructuredTaskScope;
import java.util.concurrent.StructuredTaskScope.Joiner;
import java.util.concurrent.ThreadFactory;

/**
 * The supervisor where the JVM offers structured concurrency: every connection is a subtask of one
 * {@link StructuredTaskScope}, so a thread dump ({@code jcmd PID Thread.dump_to_file -format=json})
 * shows them as a tree under the accept thread, and the scope's close proves none outlives the server.
 *
 * <p>The jar's only class that uses a preview API (JEP 505, Java 25). It is compiled on JDK 25 with
 * {@code --enable-preview} and loaded only by {@link Supervisors}, which falls back where it cannot load.
 */
final class StructuredSupervisor implements ConnectionSupervisor {

    private final StructuredTaskScope<Object, Void> scope;

    StructuredSupervisor(String name, ThreadFactory threads) {
        // awaitAll: one connection failing must never cancel its siblings, and it keeps no Subtask
        // objects, so memory stays flat over millions of short connections.
        this.scope = StructuredTaskScope.open(Joiner.awaitAll(), cf -> cf.withName(name).withThreadFactory(threads));
    }

    @Override
    public void fork(Runnable connection) {
        scope.fork(connection);
    }

    @Override
    public void join() throws InterruptedException {
        scope.join();
    }

    @Override
    public void close() {
        try {
            scope.close(); // unjoined: interrupts every connection thread, then waits for them
        } catch (IllegalStateException notJoined) {
            // Thrown after the close has done its work, when the accept loop ended without join()
            // (it failed or was interrupted): every thread has ended all the same.
        }
    }
}
