package dev.loomecho;

import dev.loomecho.seeds.SeedTarget;
import java.util.ArrayList;
import java.util.List;

/** The targets the wire-level conformance suite runs against. */
final class EchoTargets {

    private EchoTargets() {
    }

    /**
     * Every engine in this JVM (or those named in {@code loomecho.test.engines}, as for
     * {@link EngineConformanceTest}), the same over TLS for each engine that serves it, then every other
     * kind of target this machine can run.
     */
    static List<EchoTarget> all() {
        List<EchoTarget> targets = new ArrayList<>();
        for (Engine engine : EngineConformanceTest.engines()) {
            targets.add(new EngineTarget(engine));
        }
        for (Engine engine : EngineConformanceTest.engines()) {
            if (engine.servesTls()) {
                targets.add(new TlsEngineTarget(engine));
            }
        }
        targets.addAll(SeedTarget.all()); // the seeds' Winsock servers under Wine (skipped without it)
        return targets;
    }
}
