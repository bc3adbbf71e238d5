package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Engines are loaded only when started: a class that cannot load (as the old preview-compiled virtual
 * engine could not without {@code --enable-preview}) breaks only the engine that needs it.
 */
class EngineLoadingTest {

    private static final String BROKEN = "dev.loomecho.engine.ThreadPerConnectionEngine";

    /** Loads the product's classes itself, and fails on one of them as an unloadable class file would. */
    private static final class OneClassMissing extends URLClassLoader {
        OneClassMissing() throws IOException {
            super(new URL[] {Path.of("target/classes").toUri().toURL()}, EngineLoadingTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.equals(BROKEN)) {
                throw new UnsupportedClassVersionError(name + " stands in for a class this JVM cannot load");
            }
            if (!name.startsWith("dev.loomecho.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                return loaded != null ? loaded : findClass(name); // child first: our copy, not the test's
            }
        }
    }

    @Test
    void oneEngineFailingToLoadLeavesTheOthersWorking() throws Exception {
        try (OneClassMissing loader = new OneClassMissing()) {
            Class<?> engineType = loader.loadClass("dev.loomecho.Engine");
            Object[] engines = engineType.getEnumConstants(); // the enum itself loads
            assertEquals(Engine.values().length, engines.length);

            for (String needsIt : new String[] {"VIRTUAL", "PLATFORM"}) {
                Throwable broken = assertThrows(InvocationTargetException.class, () -> start(loader, needsIt)).getCause();
                assertEquals(UnsupportedClassVersionError.class, broken.getClass());
            }

            for (String engine : new String[] {"COMPLETION", "FUTURE", "SELECTOR"}) {
                try (AutoCloseable server = start(loader, engine)) {
                    int port = (int) server.getClass().getMethod("port").invoke(server);
                    try (TestClient client = new TestClient(new java.net.InetSocketAddress("127.0.0.1", port))) {
                        assertArrayEquals(new byte[] {1, 0, 1}, client.echo(new byte[] {1, 0, 1}), engine);
                    }
                }
            }
        }
    }

    /** {@code EchoServer.builder().port(0).engine(Engine.valueOf(engine)).start()}, through the loader. */
    private static AutoCloseable start(ClassLoader loader, String engine) throws Exception {
        Class<?> engineType = loader.loadClass("dev.loomecho.Engine");
        Object builder = loader.loadClass("dev.loomecho.EchoServer").getMethod("builder").invoke(null);
        Class<?> builderType = builder.getClass();
        builderType.getMethod("port", int.class).invoke(builder, 0);
        builderType.getMethod("engine", engineType).invoke(builder, engineType.getMethod("valueOf", String.class)
                .invoke(null, engine));
        builderType.getMethod("drainTimeout", java.time.Duration.class).invoke(builder, java.time.Duration.ZERO);
        Method start = builderType.getMethod("start");
        return (AutoCloseable) start.invoke(builder);
    }

}
