package dev.loomecho.engine;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the {@link BufferPool} gets native memory that it can give back at once, instead of waiting for a
 * GC to run a direct buffer's Cleaner (in an echo server the heap hardly moves, so that GC never comes).
 * Chosen once per JVM, the way {@link Supervisors} chooses a supervisor:
 * <ul>
 *   <li>Java 22+: {@code ArenaMemory}, one shared {@code Arena} per buffer, closed to free it (the FFM API,
 *       final since Java 22; its class is compiled for release 22 and loaded by name).</li>
 *   <li>Java 21: {@link UnsafeMemory}, {@code sun.misc.Unsafe.invokeCleaner}, which frees a direct buffer
 *       now. From Java 24 on it prints a warning at first use, which is why it is only the fallback.</li>
 * </ul>
 */
interface DirectMemory {

    /** A zeroed direct buffer of {@code size} bytes; throws {@link OutOfMemoryError} when there is none. */
    Block allocate(int size);

    /** What this JVM's best free-at-once memory is; logs the choice at debug level. */
    static DirectMemory best() {
        return Choice.BEST;
    }

    /** What frees a block's native memory. */
    @FunctionalInterface
    interface Release {
        /** Frees the memory now and returns true; or returns false, freeing nothing, while the JDK holds it. */
        boolean tryFree();
    }

    /** A direct buffer and what frees it ({@code null}: it is part of a slab and is never freed alone). */
    final class Block {
        private final ByteBuffer buffer;
        private final Release memory;
        /**
         * Set by the pool, under its size class's lock, once {@link #free()} said the JDK holds the memory:
         * that hold is for good (see {@link BufferPool}), so the pool never tries again.
         */
        boolean heldByJdk;

        Block(ByteBuffer buffer, Release memory) {
            this.buffer = buffer;
            this.memory = memory;
        }

        ByteBuffer buffer() {
            return buffer;
        }

        Release memory() {
            return memory;
        }

        int capacity() {
            return buffer.capacity();
        }

        /**
         * Returns the native memory now, unless the JDK holds it (see {@link BufferPool}): then false, and
         * the buffer stays usable. After true the buffer must not be used again.
         */
        boolean free() {
            return memory.tryFree();
        }
    }

    /** The choice, made on first use. */
    final class Choice {
        private static final Logger log = LoggerFactory.getLogger(BufferPool.class);
        private static final String ARENA = "dev.loomecho.engine.ArenaMemory";
        static final DirectMemory BEST = choose();

        private Choice() {
        }

        private static DirectMemory choose() {
            if (Runtime.version().feature() >= 22) {
                try {
                    DirectMemory arena = Class.forName(ARENA).asSubclass(DirectMemory.class)
                            .getDeclaredConstructor().newInstance();
                    log.debug("read buffers: native memory from one java.lang.foreign.Arena per buffer");
                    return arena;
                } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
                    // a jar built on JDK 21 has no ArenaMemory: fall back
                    log.debug("{} unavailable ({}); using sun.misc.Unsafe.invokeCleaner", ARENA, e.toString());
                }
            }
            return UnsafeMemory.create();
        }
    }

    /**
     * {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported), looked up by reflection so that the
     * build needs no internal API: the one deterministic free of a direct buffer that Java 21 offers.
     */
    final class UnsafeMemory implements DirectMemory {
        private final MethodHandle invokeCleaner;

        private UnsafeMemory(MethodHandle invokeCleaner) {
            this.invokeCleaner = invokeCleaner;
        }

        static DirectMemory create() {
            try {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
                theUnsafe.setAccessible(true);
                MethodHandle cleaner = MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                        MethodType.methodType(void.class, ByteBuffer.class)).bindTo(theUnsafe.get(null));
                return new UnsafeMemory(cleaner);
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalStateException("no way to free direct memory at once on Java "
                        + Runtime.version() + ": neither java.lang.foreign nor sun.misc.Unsafe is available", e);
            }
        }

        @Override
        public Block allocate(int size) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(size);
            return new Block(buffer, () -> free(buffer));
        }

        /** Frees whatever holds the buffer: Unsafe cannot tell, so the engines give a buffer back only once no I/O uses it. */
        private boolean free(ByteBuffer buffer) {
            try {
                invokeCleaner.invokeExact(buffer);
                return true;
            } catch (Throwable e) {
                throw new IllegalStateException("Unsafe.invokeCleaner failed", e);
            }
        }
    }
}
