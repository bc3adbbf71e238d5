package dev.loomecho.examples;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Seed 002's I/O-completion-port file copy, twice in Java 21 (docs/MODELS.md shows them next to the C).
 * The seed keeps four 64 KiB requests in flight on one port: a finished read issues the write of the same
 * block, a finished write issues the next read, and four faked "write finished" completions
 * ({@code PostQueuedCompletionStatus}) start it all.
 */
public final class FileCopy {

    static final int BLOCK = 64 * 1024; // the seed's BUFFERSIZE
    static final int IN_FLIGHT = 4;     // the seed's MAX_PENDING_IO_REQS

    private FileCopy() {
    }

    /**
     * The copy as plain blocking code: four virtual threads, each reading a block and writing it back out
     * at the same offset. Each thread's loop is one request's life in the seed, without the state machine.
     */
    public static void withVirtualThreads(Path source, Path target)
            throws IOException, InterruptedException, ExecutionException {
        try (FileChannel in = FileChannel.open(source, READ);
             FileChannel out = FileChannel.open(target, WRITE, CREATE, TRUNCATE_EXISTING);
             ExecutorService copiers = Executors.newVirtualThreadPerTaskExecutor()) {
            long size = in.size();
            AtomicLong nextBlock = new AtomicLong();
            // docs:begin virtual-copier
            Callable<Void> copier = () -> {
                ByteBuffer buffer = ByteBuffer.allocate(BLOCK);
                for (long at; (at = nextBlock.getAndAdd(BLOCK)) < size; ) {
                    buffer.clear();
                    while (buffer.hasRemaining() && in.read(buffer, at + buffer.position()) >= 0) {
                        // a read may stop short of the block: read the rest (the last block ends at EOF)
                    }
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        out.write(buffer, at + buffer.position());
                    }
                }
                return null;
            };
            for (Future<Void> copied : copiers.invokeAll(Collections.nCopies(IN_FLIGHT, copier))) {
                copied.get(); // rethrows a copier's IOException
            }
            // docs:end virtual-copier
        }
    }

    /**
     * The seed's own shape: four requests, each re-issued by a completion handler, the handlers run by a
     * small pool of worker threads while the caller only waits. The pool is the seed's
     * {@code GetQueuedCompletionStatus} loop; shutting it down is the JDK's {@code PostQueuedCompletionStatus}
     * to stop the workers.
     */
    public static void withCompletionHandlers(Path source, Path target) throws IOException, InterruptedException {
        // docs:begin handler-copy
        ExecutorService workers = Executors.newFixedThreadPool(2, Thread.ofPlatform().name("filecopy-io-", 1).factory());
        try (AsynchronousFileChannel in = AsynchronousFileChannel.open(source, Set.of(READ), workers);
             AsynchronousFileChannel out = AsynchronousFileChannel.open(target, Set.of(WRITE, CREATE, TRUNCATE_EXISTING), workers)) {
            Copy copy = new Copy(in, out, in.size());
            for (int i = 0; i < IN_FLIGHT; i++) {
                copy.writeDone.completed(0, new Request()); // the seed's faked CK_WRITE completion: go and read
            }
            copy.await();
        } finally {
            workers.shutdown();
        }
        // docs:end handler-copy
    }

    /** One request: the seed's CIOReq, an OVERLAPPED (the file offset) and its buffer. */
    private static final class Request {
        final ByteBuffer buffer = ByteBuffer.allocate(BLOCK).flip(); // empty: nothing left to write
        long at;
    }

    /** The seed's {@code switch (CompletionKey)}: CK_READ writes the block out, CK_WRITE reads the next one. */
    private static final class Copy {
        private final AsynchronousFileChannel in;
        private final AsynchronousFileChannel out;
        private final long size;
        private final AtomicLong nextBlock = new AtomicLong();
        private final CountDownLatch finished = new CountDownLatch(IN_FLIGHT);
        private volatile Throwable failure;

        Copy(AsynchronousFileChannel in, AsynchronousFileChannel out, long size) {
            this.in = in;
            this.out = out;
            this.size = size;
        }

        final CompletionHandler<Integer, Request> readDone = new CompletionHandler<>() {
            @Override
            // docs:begin read-done
            public void completed(Integer n, Request request) { // CK_READ
                ByteBuffer buffer = request.buffer;
                if (n > 0 && buffer.hasRemaining() && request.at + buffer.position() < size) {
                    in.read(buffer, request.at + buffer.position(), request, this); // short read: the rest
                    return;
                }
                buffer.flip();
                out.write(buffer, request.at, request, writeDone);
            }
            // docs:end read-done

            @Override
            public void failed(Throwable e, Request request) {
                fail(e);
            }
        };

        final CompletionHandler<Integer, Request> writeDone = new CompletionHandler<>() {
            @Override
            // docs:begin write-done
            public void completed(Integer n, Request request) { // CK_WRITE
                ByteBuffer buffer = request.buffer;
                if (buffer.hasRemaining()) {
                    out.write(buffer, request.at + buffer.position(), request, this); // short write: the rest
                    return;
                }
                request.at = nextBlock.getAndAdd(BLOCK);
                if (request.at >= size) {
                    finished.countDown(); // this request has nothing more to copy
                    return;
                }
                buffer.clear();
                in.read(buffer, request.at, request, readDone);
            }
            // docs:end write-done

            @Override
            public void failed(Throwable e, Request request) {
                fail(e);
            }
        };

        private void fail(Throwable e) {
            failure = e;
            finished.countDown();
        }

        /** The seed's {@code while (nReadsInProgress > 0 || nWritesInProgress > 0)}. */
        void await() throws IOException, InterruptedException {
            finished.await();
            if (failure != null) {
                throw new IOException("copy failed", failure);
            }
        }
    }
}
