package dev.loomecho;

import dev.loomecho.jdk.ProcessTarget;
import dev.loomecho.jdk.TargetJava;
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
     * kind of target this machine can run; or, when {@code loomecho.test.java} names a java, each engine
     * in a {@code java -jar} process on it.
     */
    static List<EchoTarget> all() {
        if (!System.getProperty(TargetJava.PROPERTY, "").isBlank()) {
            // ./run.sh test-jdks: each engine as a process on that java, and nothing in this JVM.
            return ProcessTarget.forEachOf(EngineConformanceTest.engines());
        }
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
