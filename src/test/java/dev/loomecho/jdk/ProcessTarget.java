package dev.loomecho.jdk;

import dev.loomecho.ChildServer;
import dev.loomecho.EchoTarget;
import dev.loomecho.Engine;
import dev.loomecho.TestClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code java -jar loom-echo.jar serve --port 0 --engine E}, a process on {@code java} (any JDK, in a
 * chroot too), as a user starts it: the wire-level suite then sees that JDK's sockets and threads.
 */
public record ProcessTarget(TargetJava jdk, Engine engine) implements EchoTarget {

    private static final Path JAR = Path.of("target/loom-echo.jar");

    /** One target per engine on the java {@code loomecho.test.java} names. */
    public static List<EchoTarget> forEachOf(List<Engine> engines) {
        TargetJava jdk = TargetJava.fromSystemProperty();
        List<EchoTarget> targets = new ArrayList<>();
        for (Engine engine : engines) {
            targets.add(new ProcessTarget(jdk, engine));
        }
        return targets;
    }

    @Override
    public Running start(Limits limits) throws Exception {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run after `mvn package`");
        }
        ChildServer child = ChildServer.startWith(jdk.command(List.of("-Xmx256m", "-jar", jdk.pathOf(JAR))),
                "--engine", engine.cliName(), "--max-connections", String.valueOf(limits.maxConnections()),
                "--buffer-size", String.valueOf(limits.bufferSize()), "--drain-timeout", "0s");
        InetSocketAddress address;
        try {
            address = child.address();
        } catch (Exception e) {
            child.close();
            throw e;
        }
        return new Running() {
            @Override
            public TestClient connect() throws IOException {
                return new TestClient(address);
            }

            @Override
            public int capacity() {
                return limits.maxConnections();
            }

            @Override
            public void close() throws InterruptedException {
                child.close();
            }
        };
    }

    @Override
    public String toString() {
        return "engine " + engine.cliName() + " in a process on " + jdk;
    }
}
