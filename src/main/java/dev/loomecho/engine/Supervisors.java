package dev.loomecho.engine;

import dev.loomecho.Supervision;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the connection supervisor once per JVM. {@code StructuredSupervisor} is the jar's only class
 * compiled with {@code --enable-preview} (for JDK 25); its class file loads only on that release with that
 * flag, so it is loaded by name here and nowhere else, and any {@link LinkageError} — older JDK, newer
 * JDK, flag missing, class not built — selects the plain {@link ExecutorSupervisor} instead.
 */
final class Supervisors {

    private static final Logger log = LoggerFactory.getLogger(ConnectionSupervisor.class);
    private static final String STRUCTURED = "dev.loomecho.engine.StructuredSupervisor";

    /** The structured supervisor's constructor, or null where it cannot load. Decided at first use. */
    private static final Constructor<? extends ConnectionSupervisor> STRUCTURED_SUPERVISOR = loadStructured();

    private Supervisors() {
    }

    static Supervision available() {
        return STRUCTURED_SUPERVISOR != null ? Supervision.STRUCTURED_TASK_SCOPE : Supervision.THREAD_PER_TASK_EXECUTOR;
    }

    static ConnectionSupervisor open(String name, ThreadFactory threads) {
        if (STRUCTURED_SUPERVISOR == null) {
            return new ExecutorSupervisor(threads);
        }
        try {
            return STRUCTURED_SUPERVISOR.newInstance(name, threads);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot open " + STRUCTURED, e); // loaded fine, so cannot happen
        }
    }

    private static Constructor<? extends ConnectionSupervisor> loadStructured() {
        String jdk = Runtime.version().toString();
        try {
            Constructor<? extends ConnectionSupervisor> constructor = Class.forName(STRUCTURED)
                    .asSubclass(ConnectionSupervisor.class).getDeclaredConstructor(String.class, ThreadFactory.class);
            log.info("connection threads are supervised by a StructuredTaskScope (Java {} with --enable-preview); "
                    + "without the flag, or on another JDK, a thread-per-task executor does the same job", jdk);
            return constructor;
        } catch (ClassNotFoundException | LinkageError | NoSuchMethodException | ClassCastException e) {
            log.info("connection threads are supervised by a thread-per-task executor (Java {}); to supervise them "
                    + "with a StructuredTaskScope, run a jar built on JDK 25 on Java 25 with --enable-preview "
                    + "(./run.sh does)", jdk);
            log.debug("StructuredTaskScope supervisor unavailable: {}", e.toString());
            return null;
        }
    }
}
