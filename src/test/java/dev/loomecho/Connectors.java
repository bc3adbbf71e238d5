package dev.loomecho;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Clients that connect in a loop, and keep every connection open, until closed — to race a server's
 * shutdown with connections arriving. A refused connect (the listener is gone) is simply retried.
 */
final class Connectors implements AutoCloseable {

    private final InetSocketAddress address;
    private final ConcurrentLinkedQueue<SocketChannel> open = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    Connectors(InetSocketAddress address, int count) {
        this.address = address;
        for (int i = 0; i < count; i++) {
            threads.add(Thread.ofVirtual().name("test-connector-" + i).start(this::connectUntilStopped));
        }
    }

    private void connectUntilStopped() {
        while (!stopped) {
            try {
                open.add(SocketChannel.open(address));
            } catch (IOException refused) {
                Thread.onSpinWait(); // the listener is closed; keep knocking until told to stop
            }
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stopped = true;
        for (Thread thread : threads) {
            thread.join();
        }
        for (SocketChannel channel : open) {
            channel.close();
        }
    }
}
