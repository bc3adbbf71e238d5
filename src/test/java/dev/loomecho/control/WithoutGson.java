package dev.loomecho.control;

import dev.loomecho.EchoServer;
import dev.loomecho.fault.Faults;
import dev.loomecho.junit.EchoServerExtension;
import org.junit.jupiter.api.extension.ExtensionContext;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.Socket;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Run by {@link ControlProcessTest} in a JVM without Gson; prints what worked, exits 1 on a surprise. */
public final class WithoutGson {

    private WithoutGson() {
    }

    public static void main(String[] args) throws Exception {
        try {
            Class.forName("com.google.gson.Gson");
            fail("Gson is on the class path; the test means to leave it out");
        } catch (ClassNotFoundException expected) {
            System.out.println("gson absent");
        }
        // The JUnit extension and the new faults, control port off (callbacks called as JUnit would).
        EchoServerExtension extension = EchoServerExtension.builder()
                .faults(Faults.NONE.withReadBandwidth(1_000_000).withToxicity(0.5)).seed(3).build();
        ExtensionContext theClass = contextWithId("[class:WithoutGson]");
        extension.beforeAll(theClass);
        try {
            echo(extension.port());
            System.out.println("extension echoed");
        } finally {
            extension.afterAll(theClass);
        }
        try (EchoServer server = EchoServer.builder().port(0).controlPort(0).start()) {
            fail("started a control port without Gson on " + server.controlAddress());
        } catch (IllegalStateException e) {
            System.out.println("control port refused: " + e.getMessage());
        }
        System.exit(0);
    }

    /** The one thing the extension asks of its context: a store to keep its hold on the server in. */
    private static ExtensionContext contextWithId(String uniqueId) {
        Map<Object, Object> values = new HashMap<>();
        ExtensionContext.Store store = (ExtensionContext.Store) Proxy.newProxyInstance(
                ExtensionContext.class.getClassLoader(), new Class<?>[] {ExtensionContext.Store.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "put" -> values.put(args[0], args[1]);
                    case "remove" -> values.remove(args[0]);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return (ExtensionContext) Proxy.newProxyInstance(ExtensionContext.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getUniqueId" -> uniqueId;
                    case "getStore" -> store;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static void echo(int port) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            byte[] sent = {1, 2, 3};
            socket.getOutputStream().write(sent);
            if (!Arrays.equals(sent, socket.getInputStream().readNBytes(3))) {
                fail("wrong echo");
            }
        }
    }

    private static void fail(String why) {
        System.out.println(why);
        System.exit(1);
    }
}
