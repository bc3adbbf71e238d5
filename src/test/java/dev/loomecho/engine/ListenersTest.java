package dev.loomecho.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.ServerConfig;
import java.io.IOException;
import java.net.BindException;
import java.net.ServerSocket;
import java.nio.channels.ServerSocketChannel;
import org.junit.jupiter.api.Test;

class ListenersTest {

    @Test
    void closesTheChannelWhenBindingFailsWithAnUncheckedException() throws IOException {
        // What requireReusePort throws on an OS without SO_REUSEPORT; Linux has it, so the binder throws it here.
        ServerSocketChannel channel = ServerSocketChannel.open();
        assertThrows(UnsupportedOperationException.class, () -> Listeners.bind(channel, ServerConfig.builder().port(0).build(),
                (listener, address, backlog) -> {
                    throw new UnsupportedOperationException("--reuse-port: SO_REUSEPORT is not available on this OS");
                }));
        assertFalse(channel.isOpen(), "the channel of a failed bind leaks its descriptor");
    }

    @Test
    void closesTheChannelAndNamesTheAddressWhenThePortIsBusy() throws IOException {
        try (ServerSocket taken = new ServerSocket(0)) {
            ServerSocketChannel channel = ServerSocketChannel.open();
            BindException e = assertThrows(BindException.class, () -> Listeners.bind(channel,
                    ServerConfig.builder().port(taken.getLocalPort()).build(), ServerSocketChannel::bind));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertFalse(channel.isOpen());
        }
    }
}
