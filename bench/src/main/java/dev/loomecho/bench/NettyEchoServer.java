package dev.loomecho.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;

/**
 * The benchmark peer: Netty 4.2's own echo example on its native epoll transport, one event-loop
 * group sized to the available processors (so a pinned JVM gets the same CPU as ours). With a TLS port
 * and a PKCS#12 key store, a second listener on the same group serves TLS as Netty's secure echo example
 * does: an {@code SslHandler} (JDK provider, the key store's key) in front of the same handler.
 * Usage: {@code java -cp loom-echo-bench.jar dev.loomecho.bench.NettyEchoServer PORT [TLS_PORT KEYSTORE PASSWORD]}.
 */
public final class NettyEchoServer {

    public static void main(String[] args) throws Exception {
        Epoll.ensureAvailability(); // fail loudly rather than benchmark a fallback transport
        int port = Integer.parseInt(args[0]);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                Runtime.getRuntime().availableProcessors(), EpollIoHandler.newFactory());
        try {
            Channel server = bootstrap(group, new EchoHandler())
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).sync().channel();
            System.out.println("netty-epoll echo listening on " + server.localAddress());
            if (args.length == 4) {
                SslContext tls = serverContext(Path.of(args[2]), args[3].toCharArray());
                Channel secure = bootstrap(group, new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast(tls.newHandler(channel.alloc()), new EchoHandler());
                    }
                }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[1]))).sync().channel();
                System.out.println("netty-epoll TLS echo listening on " + secure.localAddress());
            }
            server.closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }

    private static ServerBootstrap bootstrap(EventLoopGroup group, ChannelHandler childHandler) {
        return new ServerBootstrap()
                .group(group)
                .channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(childHandler);
    }

    /**
     * The JDK provider, as loom-echo uses, and the JDK's SunX509 key manager, which reads the key once
     * (the PKIX one would decrypt the PKCS#12 entry again on every handshake).
     */
    private static SslContext serverContext(Path keyStore, char[] password) throws Exception {
        KeyStore store = KeyStore.getInstance(keyStore.toFile(), password);
        KeyManagerFactory keys = KeyManagerFactory.getInstance("SunX509");
        keys.init(store, password);
        return SslContextBuilder.forServer(keys).sslProvider(SslProvider.JDK).build();
    }

    /** Netty's example/echo EchoServerHandler: read → write, readComplete → flush, exception → close. */
    @Sharable
    static final class EchoHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
