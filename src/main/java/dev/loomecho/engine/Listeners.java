package dev.loomecho.engine;

import com.sun.net.httpserver.HttpServer;
import dev.loomecho.ServerConfig;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.Channel;
import java.nio.channels.NetworkChannel;

/** Binding, shared by every engine and the UDP echo, so that each reports a busy port the same clear way. */
public final class Listeners {

    /** Large enough that a burst of a thousand connects is not refused by the kernel before accept runs. */
    public static final int BACKLOG = 4_096;

    private Listeners() {
    }

    /**
     * Binds {@code listener} to the configured address, closing it on failure. A busy port raises a
     * {@link BindException} whose message names the address, e.g. "cannot listen on 127.0.0.1:7007".
     */
    public static <C extends NetworkChannel> C bind(C listener, ServerConfig config,
                                                    Binder<C> binder) throws IOException {
        return bind(listener, config.socketAddress(), config.reusePort(), "listen", binder);
    }

    /**
     * Sets the socket options every loom-echo socket shares and binds {@code channel} to {@code address}.
     * Whatever fails — the bind, an option, or SO_REUSEPORT missing from the OS — the channel is closed
     * before the exception leaves, so a failed start holds no descriptor. A busy port raises a
     * {@link BindException} saying "cannot PURPOSE on ADDRESS", e.g. "cannot listen for UDP on 127.0.0.1:7007".
     */
    public static <C extends NetworkChannel> C bind(C channel, InetSocketAddress address, boolean reusePort,
                                                    String purpose, Binder<C> binder) throws IOException {
        try {
            // Lets a restarted server rebind while old connections sit in TIME_WAIT; it never lets two listen.
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                requireReusePort(channel);
                // Lets several processes listen on one port; the kernel spreads new connections among them.
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            binder.bind(channel, address, BACKLOG);
            return channel;
        } catch (IOException | RuntimeException | Error e) {
            close(channel);
            if (e instanceof BindException) {
                BindException named = new BindException(
                        "cannot " + purpose + " on " + describe(address) + ": " + e.getMessage());
                named.initCause(e);
                throw named;
            }
            throw e;
        }
    }

    /**
     * Opens an asynchronous listener in {@code group} and binds it; shuts the group down if anything
     * fails, so a failed start leaves no pool threads behind.
     */
    public static AsynchronousServerSocketChannel bindAsynchronous(AsynchronousChannelGroup group, ServerConfig config)
            throws IOException {
        try {
            return bind(AsynchronousServerSocketChannel.open(group), config, AsynchronousServerSocketChannel::bind);
        } catch (IOException | RuntimeException | Error e) {
            group.shutdownNow();
            throw e;
        }
    }

    /**
     * Binds a JDK {@link HttpServer} (not started) for {@code purpose}, e.g. "metrics"; a busy port raises a
     * {@link BindException} that names both, e.g. "cannot serve metrics on 127.0.0.1:9090".
     */
    public static HttpServer bindHttp(InetSocketAddress address, String purpose) throws IOException {
        try {
            return HttpServer.create(address, 0);
        } catch (BindException e) {
            BindException named = new BindException("cannot serve " + purpose + " on " + describe(address)
                    + ": " + e.getMessage());
            named.initCause(e);
            throw named;
        }
    }

    /** Closes a listener (stopping accepts); a failure to close changes nothing worth more than a debug line. */
    public static void close(Channel listener) {
        try {
            listener.close();
        } catch (IOException e) {
            Disconnects.log.debug("closing listener: {}", e.toString());
        }
    }

    /** Fails clearly where the OS has no SO_REUSEPORT, instead of starting a lone server silently. */
    public static void requireReusePort(NetworkChannel channel) {
        if (!channel.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
            throw new UnsupportedOperationException("--reuse-port: SO_REUSEPORT is not available on this OS");
        }
    }

    public static String describe(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** The bind call of one listener type ({@code ServerSocketChannel::bind} and the asynchronous one differ). */
    @FunctionalInterface
    public interface Binder<C> {
        void bind(C listener, InetSocketAddress address, int backlog) throws IOException;
    }
}
