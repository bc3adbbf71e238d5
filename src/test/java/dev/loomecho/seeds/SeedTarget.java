package dev.loomecho.seeds;

import dev.loomecho.EchoTarget;
import dev.loomecho.TestClient;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * A seed's Winsock server under Wine as a target of the wire conformance suite. It has no counters, and
 * its limit is its model's: where the model has none it cannot be asked for one, so the refusal test
 * is skipped for it. Without mingw-w64 and Wine every test on it is skipped, saying which is missing.
 */
public record SeedTarget(SeedModel model) implements EchoTarget {

    /**
     * A smaller buffer request is raised to this. The buffer is no part of any model, and under Wine each
     * Winsock call is a round trip to the wineserver: the suite's 64 MiB back-pressure test took 14-47 s
     * per seed with the 4 KiB it asks for, 1.5-3.2 s with 64 KiB. (It asks for a small buffer to check, in the
     * server's counters, that the server holds no more than one; a seed has no counters.)
     */
    static final int MIN_BUFFER_SIZE = 64 * 1024;

    /**
     * Every seed, or those named in {@code loomecho.test.seeds} (comma-separated; {@code none} for none:
     * the build's second conformance run, which is about engine supervisors, leaves them out).
     */
    public static List<EchoTarget> all() {
        String only = System.getProperty("loomecho.test.seeds", "").trim();
        if (only.equals("none")) {
            return List.of();
        }
        List<SeedModel> models = only.isEmpty() ? List.of(SeedModel.values())
                : Arrays.stream(only.split(",")).map(SeedModel::named).toList();
        return models.stream().<EchoTarget>map(SeedTarget::new).toList();
    }

    @Override
    public Running start(Limits limits) throws Exception {
        Wine.missing().ifPresent(Assumptions::abort);
        SeedProcess seed = Wine.start(model, Math.max(limits.bufferSize(), MIN_BUFFER_SIZE));
        return new Running() {
            @Override
            public TestClient connect() throws IOException {
                return new TestClient(seed.address());
            }

            @Override
            public int capacity() {
                return model.capacity().orElse(limits.maxConnections());
            }

            @Override
            public void close() throws InterruptedException {
                seed.close();
            }
        };
    }

    @Override
    public Optional<String> lacks(Feature feature) {
        if (feature == Feature.REFUSAL_BEYOND_CAPACITY && model.capacity().isEmpty()) {
            return Optional.of("the " + model.fileName() + " model sets no connection limit, and its seed server takes none");
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "seed " + model.fileName() + " (Wine)";
    }
}
