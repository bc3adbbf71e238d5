package dev.loomecho.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code load --driver selector}: one thread and one {@link Selector} drive every connection. Per
 * message it costs a write and a read system call and nothing else — no thread to park and wake — so
 * a benchmark can measure the server rather than the client's own scheduling.
 *
 * <p>Each connection repeats the thread driver's conversation: write a batch of {@code pipeline} random
 * messages, read the echo, check every byte, record each message's latency when its last byte is back;
 * at the end, half-close and wait for the server's close with nothing more read. It keeps reading while
 * it writes, so a batch larger than the socket buffers cannot deadlock. Nothing blocks, so the timeout
 * is a check of each connection's last progress, made every {@link #CHECK_INTERVAL_NANOS}.
 */
final class SelectorDriver implements AutoCloseable {

    private static final long CHECK_INTERVAL_NANOS = 100_000_000L;

    private final LoadOptions options;
    private final LoadGenerator tally;
    private final Selector selector;
    private final List<Conversation> conversations = new ArrayList<>();
    /** One read buffer for every connection: a read is checked before the next one. */
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(256 * 1024);
    private final byte[] readBytes = new byte[readBuffer.capacity()];
    private final long timeoutNanos;
    private int open;

    private SelectorDriver(LoadOptions options, LoadGenerator tally) throws IOException {
        this.options = options;
        this.tally = tally;
        this.selector = Selector.open();
        this.timeoutNanos = options.timeout().toNanos();
    }

    /** Connects every connection (a failure to connect is counted, not thrown). */
    static SelectorDriver connect(LoadOptions options, InetSocketAddress address, LoadGenerator tally) {
        SelectorDriver driver;
        try {
            driver = new SelectorDriver(options, tally);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot open a selector", e);
        }
        try {
            for (int i = 0; i < options.connections(); i++) {
                try {
                    SocketChannel channel = SocketChannel.open();
                    try {
                        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                        // blocking, bounded: connecting is not what is measured
                        channel.socket().connect(address, options.timeoutMillis());
                        channel.configureBlocking(false);
                        Conversation conversation = driver.new Conversation(channel, i);
                        conversation.key = channel.register(driver.selector, 0, conversation);
                        driver.conversations.add(conversation);
                        tally.connectedOne();
                    } catch (IOException | RuntimeException | Error e) {
                        channel.close();
                        throw e;
                    }
                } catch (IOException e) {
                    tally.connectFailed();
                }
            }
        } catch (RuntimeException | Error e) {
            driver.close(); // out of memory for a payload, say: leave no connection open behind the failure
            throw e;
        }
        return driver;
    }

    /** Runs every conversation to its end: the message count, or {@code deadline} (System.nanoTime). */
    void run(long deadline) throws InterruptedException {
        open = conversations.size();
        for (Conversation conversation : conversations) {
            conversation.sendBatch(deadline);
        }
        long nextCheck = System.nanoTime() + CHECK_INTERVAL_NANOS;
        try {
            while (open > 0) {
                selector.select(key -> ((Conversation) key.attachment()).ready(deadline), 100);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long now = System.nanoTime();
                if (now - nextCheck >= 0) {
                    for (Conversation conversation : conversations) {
                        conversation.checkProgress(now);
                    }
                    nextCheck = now + CHECK_INTERVAL_NANOS;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("selector failed", e);
        }
    }

    /** One connection: its random payload, the batch being written, and how far its echo has come back. */
    private final class Conversation {
        private final SocketChannel channel;
        private final byte[] payload;
        private final int size = options.size();
        private final int batchBytes = options.size() * options.pipeline();
        private SelectionKey key;
        private ByteBuffer sending;
        private int batchOffset; // where the current batch starts in payload: 0 or batchBytes
        private int echoed;      // bytes of the current batch back and verified
        private long batchSentAt;
        private long sent;       // messages sent so far
        private boolean anyEchoed;
        private boolean halfClosed; // all sent and verified: only the server's close may come now
        private long lastProgress;  // when a byte last moved, either way, or the connection changed phase

        Conversation(SocketChannel channel, long seed) {
            this.channel = channel;
            this.payload = new byte[batchBytes * 2]; // two batches, so consecutive ones differ
            new SplittableRandom(seed).nextBytes(payload);
        }

        /** Starts the next batch, or half-closes when it has sent enough. */
        void sendBatch(long deadline) {
            lastProgress = System.nanoTime();
            boolean more = options.duration() != null ? lastProgress - deadline < 0 : sent < options.messages();
            if (!more) {
                halfClose();
                return;
            }
            sending = ByteBuffer.wrap(payload, batchOffset, batchBytes);
            echoed = 0;
            batchSentAt = lastProgress;
            sent += options.pipeline();
            write();
        }

        private void halfClose() {
            try {
                channel.shutdownOutput();
            } catch (IOException e) {
                end(Failure.of(e));
                return;
            }
            halfClosed = true;
            key.interestOps(SelectionKey.OP_READ);
        }

        void ready(long deadline) {
            try {
                if (key.isValid() && key.isWritable()) {
                    write();
                }
                if (key.isValid() && key.isReadable()) {
                    read(deadline);
                }
            } catch (IOException e) {
                end(Failure.of(e));
            }
        }

        /** Fails the connection if the server let the whole timeout pass without progress. */
        void checkProgress(long now) {
            if (key.isValid() && now - lastProgress > timeoutNanos) {
                end(halfClosed ? Failure.NOT_CLOSED : Failure.TIMEOUT);
            }
        }

        private void write() {
            int written;
            try {
                written = channel.write(sending);
            } catch (IOException e) {
                end(Failure.of(e));
                return;
            }
            if (written > 0) {
                lastProgress = System.nanoTime();
            }
            // Keep reading always; ask for writability only while part of the batch is still unsent.
            key.interestOps(SelectionKey.OP_READ | (sending.hasRemaining() ? SelectionKey.OP_WRITE : 0));
        }

        private void read(long deadline) throws IOException {
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n == 0) {
                return; // a spurious wake-up: nothing came
            }
            if (halfClosed) {
                end(n < 0 ? null : Failure.EXTRA_BYTES); // its close, and nothing before it, ends a good run
                return;
            }
            if (n < 0) {
                end(Failure.SHORT_ECHO); // the server closed mid-batch
                return;
            }
            readBuffer.flip().get(readBytes, 0, n);
            int from = batchOffset + echoed;
            if (n > batchBytes - echoed) {
                end(Failure.EXTRA_BYTES); // more than was sent: the next batch is not out yet
                return;
            }
            if (Arrays.mismatch(readBytes, 0, n, payload, from, from + n) >= 0) {
                end(Failure.WRONG_BYTE);
                return;
            }
            long now = System.nanoTime();
            lastProgress = now;
            anyEchoed = true;
            int before = echoed / size;
            echoed += n;
            for (int message = before; message < echoed / size; message++) {
                tally.echoed(size, now - batchSentAt);
            }
            if (echoed == batchBytes) {
                batchOffset = batchOffset == 0 ? batchBytes : 0;
                sendBatch(deadline);
            }
        }

        /** Ends the conversation: a success if {@code failure} is null. */
        private void end(Failure failure) {
            if (!key.isValid()) {
                return; // ended already
            }
            if (failure != null) {
                tally.failed(failure, !anyEchoed);
            }
            key.cancel();
            open--;
            try {
                channel.close();
            } catch (IOException ignored) {
                // ending anyway
            }
        }
    }

    @Override
    public void close() {
        for (Conversation conversation : conversations) {
            try {
                conversation.channel.close();
            } catch (IOException ignored) {
                // closing everything on the way out
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
