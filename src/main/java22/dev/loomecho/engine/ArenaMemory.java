package dev.loomecho.engine;

import java.lang.foreign.Arena;

/**
 * {@link DirectMemory} on Java 22+: each buffer is the memory of its own shared {@link Arena}, and closing
 * the arena frees it at once. Shared, not confined: asynchronous channels refuse buffers of a confined
 * arena, and a connection's buffer is used by more than one thread over its life. One arena per buffer,
 * not one per slab: the JDK counts every I/O call on such a buffer against its arena, and buffers of
 * different connections must not share that counter across cores.
 *
 * <p>Compiled for release 22 into the same package; only {@link DirectMemory.Choice} loads it, by name.
 */
final class ArenaMemory implements DirectMemory {

    @Override
    public Block allocate(int size) {
        Arena arena = Arena.ofShared();
        try {
            return new Block(arena.allocate(size).asByteBuffer(), arena);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }
}
