package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Running out of memory or threads ends at most one connection, never an engine. Each case runs the
 * server in a child JVM from the runnable jar (so this runs after package), as users run it.
 */
@Timeout(180)
class OutOfResourcesIT {

    /**
     * 1 MiB of direct memory for the whole JVM and no explicit GC: before the buffer pool, the first
     * connections that grew to 64 KiB took it all, and the next allocation threw OutOfMemoryError on the
     * selector thread (which died, leaving every connection hanging) or in a completion handler (whose
     * connection then sat open until the idle timeout). Now the pool stays under its cap: connections
     * that cannot grow keep the buffer they have, and new ones are still served.
     */
    @ParameterizedTest(name = "engine {0}")
    @EnumSource(Engine.class)
    void aServerOutOfDirectMemoryGoesOnEchoingExactlyAndServesNewConnections(Engine engine) throws Exception {
        List<TestClient> clients = new ArrayList<>();
        try (ChildServer server = ChildServer.startJar(0, List.of("-XX:MaxDirectMemorySize=1m", "-XX:+DisableExplicitGC"),
                "--engine", engine.cliName(), "--threads", "1")) {
            byte[] bulk = TestClient.randomBytes(64 * 1024, 16);
            for (int i = 0; i < 16; i++) {
                TestClient client = new TestClient(server.address());
                clients.add(client);
                for (int round = 0; round < 3; round++) {
                    assertArrayEquals(bulk, client.echo(bulk), "connection " + i + ", round " + round + ":\n" + server.output());
                }
            }
            assertTrue(server.output().contains("read buffers: a buffer could not be allocated"),
                    "the pool reached its cap and said so:\n" + server.output());
            try (TestClient late = new TestClient(server.address())) {
                assertArrayEquals(bulk, late.echo(bulk), "a new connection is served:\n" + server.output());
            }
            for (TestClient client : clients) {
                assertArrayEquals(bulk, client.echo(bulk), "every earlier connection still echoes:\n" + server.output());
            }
            assertTrue(!server.output().contains("OutOfMemoryError"), server.output());
        } finally {
            for (TestClient client : clients) {
                client.close();
            }
        }
    }

    /**
     * {@code platform} starts an OS thread per connection. Under a process limit the OS refuses one, and
     * {@code Thread.start} throws "OutOfMemoryError: unable to create native thread" in the accept loop.
     * Before, that ended the accept loop: every connection was closed and the listener with it. Now that
     * one connection is closed and counted, the loop backs off and goes on, and once threads are free
     * again new connections are served.
     *
     * <p>RLIMIT_NPROC counts every thread of a user and does not apply to root, so the child runs as an
     * unprivileged user ({@code setpriv}) under {@code prlimit --nproc}; the test is skipped where that
     * cannot be done.
     */
    @Test
    void aPlatformServerOutOfThreadsClosesOnlyTheConnectionItCannotServe() throws Exception {
        Path jar = Path.of("target/loom-echo.jar").toAbsolutePath();
        assumeTrue(ProcessHandle.current().info().user().orElse("").equals("root"), "needs root to switch to an unprivileged user");
        assumeTrue(onPath("setpriv") && onPath("prlimit"), "needs setpriv and prlimit (util-linux)");
        String user = "nobody";
        assumeTrue(runs(List.of("setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", "true")),
                "cannot run as " + user);
        assumeTrue(threadsOf(user) == 0, user + " already runs processes, whose threads would count against the limit");
        Path copy = Files.createTempFile("loom-echo-nproc", ".jar"); // readable by nobody, wherever the build is
        Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy, Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ));
        List<TestClient> clients = new ArrayList<>();
        try (ChildServer server = ChildServer.startCommand(List.of("setpriv", "--reuid=" + user, "--regid=nogroup",
                "--clear-groups", "prlimit", "--nproc=70", "--"), copy, "--engine", "platform")) {
            TestClient first = new TestClient(server.address());
            clients.add(first);
            assertArrayEquals(new byte[] {1}, first.echo(new byte[] {1}));
            // Far more connections than the limit leaves threads for: the JVM has used most of the 70.
            for (int i = 0; i < 80; i++) {
                clients.add(new TestClient(server.address()));
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> server.output().contains("unable to create native thread"));
            assertArrayEquals(new byte[] {2}, first.echo(new byte[] {2}), "the first connection still echoes:\n" + server.output());
            for (TestClient client : clients.subList(1, clients.size())) {
                client.close(); // frees the threads of those that were served
            }
            clients.subList(1, clients.size()).clear();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                try (TestClient late = new TestClient(server.address())) {
                    return java.util.Arrays.equals(new byte[] {3}, late.echo(new byte[] {3}));
                }
            });
            assertArrayEquals(new byte[] {4}, first.echo(new byte[] {4}), server.output());
        } finally {
            for (TestClient client : clients) {
                client.close();
            }
            Files.deleteIfExists(copy);
        }
    }

    private static boolean onPath(String command) {
        return runs(List.of("sh", "-c", "command -v " + command));
    }

    private static boolean runs(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static long threadsOf(String user) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ps", "-L", "-u", user, "--no-headers").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return output.lines().filter(l -> !l.isBlank()).count();
    }
}
