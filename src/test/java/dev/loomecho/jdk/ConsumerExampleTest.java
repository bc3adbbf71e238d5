package dev.loomecho.jdk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.loomecho.EchoServer;
import dev.loomecho.Supervision;
import dev.loomecho.junit.EchoServerExtension;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A consumer's test, as in the README: the library jar, JUnit and slf4j on the classpath — nothing else,
 * no JVM flag. {@link ConsumerIT} runs it in such a JVM; the normal suite skips it (tag "scenario").
 */
@Tag("scenario")
class ConsumerExampleTest {

    @RegisterExtension
    static EchoServerExtension echo = EchoServerExtension.builder().build();

    @Test
    void echoesThroughTheExtensionAndTheBuilder() throws Exception {
        assertArrayEquals(new byte[] {0, 42, -1}, roundTrip(echo.port(), new byte[] {0, 42, -1}));
        try (EchoServer server = EchoServer.builder().port(0).drainTimeout(Duration.ZERO).start()) {
            assertArrayEquals(new byte[] {9}, roundTrip(server.port(), new byte[] {9}));
            assertEquals(Supervision.valueOf(System.getProperty("expectedSupervision")), server.supervision());
            assertEquals(1, server.stats().accepted());
        }
    }

    @Test
    void needsNoneOfTheRunnableJarsOptionalLibraries() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("picocli.CommandLine"));
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.HdrHistogram.Histogram"));
    }

    private static byte[] roundTrip(int port, byte[] message) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(message);
            InputStream in = socket.getInputStream();
            return in.readNBytes(message.length);
        }
    }
}
