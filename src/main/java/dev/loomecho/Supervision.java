package dev.loomecho;

/**
 * What keeps track of a server's connection threads, so that none outlives {@link EchoServer#close()}.
 * The thread-per-connection engines ({@code virtual}, {@code future}) use the best the JVM offers;
 * {@link EchoServer#supervision()} tells which one a running server got.
 */
public enum Supervision {
    /**
     * {@code java.util.concurrent.StructuredTaskScope} (JEP 505): on JDK 25 started with
     * {@code --enable-preview}, the release the preview class in the jar was built for.
     */
    STRUCTURED_TASK_SCOPE,
    /**
     * A thread-per-task {@code ExecutorService}: the same contract on every JDK 21+ — each connection
     * thread tracked, closing interrupts and joins them.
     */
    THREAD_PER_TASK_EXECUTOR,
    /** The engine has no thread per connection to supervise ({@code completion}, {@code selector}). */
    NONE
}
