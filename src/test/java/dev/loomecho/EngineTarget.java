package dev.loomecho;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/** An {@link Engine} started in this JVM through the embedding API, as an embedder's test would. */
record EngineTarget(Engine engine) implements EchoTarget {

    @Override
    public Running start(Limits limits) throws IOException {
        EchoServer server = EchoServer.builder().port(0).engine(engine).drainTimeout(Duration.ofMillis(500))
                .maxConnections(limits.maxConnections()).bufferSize(limits.bufferSize()).start();
        return new Running() {
            @Override
            public TestClient connect() throws IOException {
                return TestClient.connect(server);
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
        return "engine " + engine.name().toLowerCase(java.util.Locale.ROOT);
    }
}
