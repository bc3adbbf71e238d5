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
            return new Block(arena.allocate(size).asByteBuffer(), () -> close(arena));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Closes the arena, which frees its memory; false while the JDK has acquired it. The JDK acquires a
     * buffer's arena for every asynchronous read or write it leaves pending, and on Linux (JDK 21 to 25,
     * {@code UnixAsynchronousSocketChannelImpl.finishRead}/{@code finishWrite}) releases it only when the
     * operation succeeds: one that fails (the peer reset, or the channel was closed under it) leaves the
     * arena acquired for good, though no I/O uses the buffer any more.
     */
    private static boolean close(Arena arena) {
        try {
            arena.close();
            return true;
        } catch (IllegalStateException e) {
            if (!arena.scope().isAlive()) {
                throw e; // closed twice: a bug of ours, not the JDK holding it
            }
            return false;
        }
    }
}
