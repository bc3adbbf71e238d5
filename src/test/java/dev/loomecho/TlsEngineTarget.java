package dev.loomecho;

import dev.loomecho.tls.TlsConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * An {@link Engine}'s TLS listener in this JVM, reached as a TLS client reaches it: through the
 * generated CA's client context, checking the host name. The handshake runs on the first read or write,
 * so a connection the server refuses still makes a {@link TestClient} that reports the refusal.
 */
record TlsEngineTarget(Engine engine) implements EchoTarget {

    @Override
    public Running start(Limits limits) throws IOException {
        EchoServer server = EchoServer.builder().port(0).engine(engine).drainTimeout(Duration.ofMillis(500))
                .maxConnections(limits.maxConnections()).bufferSize(limits.bufferSize())
                .tls(TlsConfig.defaults()).start();
        return new Running() {
            @Override
            public TestClient connect() throws IOException {
                SSLSocket socket = (SSLSocket) server.tls().clientContext().getSocketFactory()
                        .createSocket("localhost", server.tlsPort());
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(parameters);
                return new TestClient(socket);
            }

            @Override
            public int capacity() {
                return limits.maxConnections();
            }

            @Override
            public Optional<Stats> stats() {
                return Optional.of(server.stats());
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }

    @Override
    public String toString() {
        return "engine " + engine.name().toLowerCase(Locale.ROOT) + " over TLS";
    }
}
