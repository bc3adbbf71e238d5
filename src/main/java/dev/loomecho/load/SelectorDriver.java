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
 * messages, read the echo, check every byte, record each message's latency when its last byte is back.
 * It keeps reading while it writes, so a batch larger than the socket buffers cannot deadlock.
 */
final class SelectorDriver implements AutoCloseable {

    private final LoadOptions options;
    private final LoadGenerator tally;
    private final Selector selector;
    private final List<Conversation> conversations = new ArrayList<>();
    /** One read buffer for every connection: a read is checked before the next one. */
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(256 * 1024);
    private final byte[] readBytes = new byte[readBuffer.capacity()];
    private int open;

    private SelectorDriver(LoadOptions options, LoadGenerator tally) throws IOException {
        this.options = options;
        this.tally = tally;
        this.selector = Selector.open();
    }

    /** Connects every connection (a failure to connect is counted, not thrown). */
    static SelectorDriver connect(LoadOptions options, InetSocketAddress address, LoadGenerator tally) {
        SelectorDriver driver;
        try {
            driver = new SelectorDriver(options, tally);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot open a selector", e);
        }
        for (int i = 0; i < options.connections(); i++) {
            try {
                SocketChannel channel = SocketChannel.open();
                try {
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    channel.connect(address); // blocking: connecting is not what is measured
                    channel.configureBlocking(false);
                    Conversation conversation = driver.new Conversation(channel, i);
                    conversation.key = channel.register(driver.selector, 0, conversation);
                    driver.conversations.add(conversation);
                    tally.connectedOne();
                } catch (IOException e) {
                    channel.close();
                    throw e;
                }
            } catch (IOException e) {
                tally.connectFailed();
            }
        }
        return driver;
    }

    /** Runs every conversation to its end: the message count, or the duration from {@code start}. */
    void run(long start) throws InterruptedException {
        LoadGenerator.sleepUntil(start + options.hold().toNanos());
        long deadline = options.duration() == null ? Long.MAX_VALUE
                : start + options.hold().toNanos() + options.duration().toNanos();
        open = conversations.size();
        for (Conversation conversation : conversations) {
            conversation.sendBatch(deadline);
        }
        try {
            while (open > 0) {
                selector.select(key -> ((Conversation) key.attachment()).ready(deadline), 100);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
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

        Conversation(SocketChannel channel, long seed) {
            this.channel = channel;
            this.payload = new byte[batchBytes * 2]; // two batches, so consecutive ones differ
            new SplittableRandom(seed).nextBytes(payload);
        }

        /** Starts the next batch, or ends the conversation when it has sent enough. */
        void sendBatch(long deadline) {
            boolean more = options.duration() != null ? System.nanoTime() < deadline : sent < options.messages();
            if (!more) {
                end(false);
                return;
            }
            sending = ByteBuffer.wrap(payload, batchOffset, batchBytes);
            echoed = 0;
            batchSentAt = System.nanoTime();
            sent += options.pipeline();
            write();
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
                end(true);
            }
        }

        private void write() {
            try {
                channel.write(sending);
            } catch (IOException e) {
                end(true);
                return;
            }
            // Keep reading always; ask for writability only while part of the batch is still unsent.
            key.interestOps(SelectionKey.OP_READ | (sending.hasRemaining() ? SelectionKey.OP_WRITE : 0));
        }

        private void read(long deadline) throws IOException {
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n < 0) {
                end(true); // the server closed mid-batch: a short echo
                return;
            }
            readBuffer.flip().get(readBytes, 0, n);
            int from = batchOffset + echoed;
            if (n > batchBytes - echoed
                    || Arrays.mismatch(readBytes, 0, n, payload, from, from + n) >= 0) {
                end(true); // more than was sent, or a wrong byte
                return;
            }
            long now = System.nanoTime();
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

        private void end(boolean failed) {
            if (failed) {
                tally.failed();
            }
            if (key.isValid()) {
                key.cancel();
                open--;
            }
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
