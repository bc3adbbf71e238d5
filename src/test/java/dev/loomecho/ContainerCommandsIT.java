package dev.loomecho;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.Gson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The commands a container of the shipped image runs, composed from the Dockerfile and the manifest
 * as Docker and Kubernetes compose them, started for real: the runnable jar on this JVM (standing for
 * the image's {@code java} and {@code /app/loom-echo.jar}). They bind 0.0.0.0 and fixed ports, so each
 * runs in a private network namespace, where nothing else listens and nothing outside can connect.
 * (./run.sh test-image runs the image itself under podman.)
 */
@Timeout(180)
class ContainerCommandsIT {

    /** What the child JVM in the namespace does: start {@code server}, probe it, run {@code others}, stop it. */
    record Plan(List<String> server, Map<String, String> environment, int echoPort, int probePort,
                String readyPath, String healthPath, List<List<String>> others) {
    }

    @Test
    void theImagesDefaultCommandServesAndTheSameEntrypointRunsClientAndLoad() throws Exception {
        Plan plan = new Plan(onThisMachine(ContainerCommands.dockerRun()), Map.of(), 7007, 9090, "/ready", "/health",
                List.of(onThisMachine(ContainerCommands.dockerRun("client", "--port", "7007")),
                        onThisMachine(ContainerCommands.dockerRun("load", "--port", "7007", "--connections", "2",
                                "--messages", "10"))));
        NetworkNamespace.Run run = runInNamespace(plan);
        assertEquals("0", run.result("client"), run.output());
        assertEquals("0", run.result("load"), run.output());
    }

    @Test
    void theKubernetesContainerServesWithTheManifestsArgsAndAnswersItsProbes() throws Exception {
        Map<String, Object> container = ContainerCommands.deploymentContainer();
        List<String> args = ContainerCommands.cliArguments(ContainerCommands.kubernetes());
        Plan plan = new Plan(onThisMachine(ContainerCommands.kubernetes()),
                Map.of("LOOM_ECHO_CONTROL_TOKEN", "a-token-the-secret-would-hold"), // the manifest reads it from the Secret
                Integer.parseInt(args.get(args.indexOf("--port") + 1)),
                ContainerCommands.containerPort(probe(container, "readinessProbe").get("port")),
                (String) probe(container, "readinessProbe").get("path"),
                (String) probe(container, "livenessProbe").get("path"), List.of());
        assertEquals(ContainerCommands.containerPort(probe(container, "readinessProbe").get("port")),
                ContainerCommands.containerPort(probe(container, "livenessProbe").get("port")));
        runInNamespace(plan);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> probe(Map<String, Object> container, String name) {
        return (Map<String, Object>) ((Map<String, Object>) container.get(name)).get("httpGet");
    }

    /** The image's {@code java} is this JVM's; its {@code /app/loom-echo.jar} is the jar the build made. */
    private static List<String> onThisMachine(List<String> command) {
        Path jar = Path.of("target/loom-echo.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run this test after `mvn package`");
        }
        List<String> local = new ArrayList<>(command);
        assertEquals("java", local.getFirst());
        local.set(0, ProcessHandle.current().info().command().orElseThrow());
        local.set(local.indexOf(ContainerCommands.IMAGE_JAR), jar.toString());
        return local;
    }

    /** Runs {@link InNamespace} in a new network namespace and checks what every plan shares. */
    private static NetworkNamespace.Run runInNamespace(Plan plan) throws Exception {
        String unavailable = NetworkNamespace.unavailableBecause();
        assumeTrue(unavailable == null, unavailable);
        NetworkNamespace.Run run = NetworkNamespace.run(List.of("ip link set lo up"), InNamespace.class,
                new Gson().toJson(plan));
        assertEquals(0, run.exitCode(), run.output());
        assertEquals("200", run.result("ready"), run.output());
        assertEquals("200", run.result("health"), run.output());
        assertEquals("1", run.result("acceptedAfterProbes"), "probes are not echo connections:\n" + run.output());
        assertEquals("503", run.result("readyWhileDraining"), run.output());
        assertEquals("0", run.result("exit"), "SIGTERM ends it with 0:\n" + run.output());
        assertEquals("1", run.result("stoppedLines"), run.output());
        return run;
    }

    /** The child JVM, inside the namespace: everything it starts shares the namespace's network. */
    public static final class InNamespace {

        private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

        public static void main(String[] args) throws Exception {
            Plan plan = new Gson().fromJson(args[0], Plan.class);
            ProcessBuilder builder = new ProcessBuilder(plan.server()).redirectErrorStream(true);
            builder.environment().putAll(plan.environment());
            Process server = builder.start();
            StringBuffer output = new StringBuffer();
            Thread.ofVirtual().start(() -> copy(server.getInputStream(), output));
            try {
                String probes = "http://127.0.0.1:" + plan.probePort();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                        .until(() -> !server.isAlive() || status(probes + plan.readyPath()) == 200);
                result("ready", status(probes + plan.readyPath()));
                try (TestClient client = new TestClient(new InetSocketAddress("127.0.0.1", plan.echoPort()))) {
                    byte[] payload = TestClient.randomBytes(50_000, 7);
                    assertArrayEquals(payload, client.echo(payload));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> accepted(probes) >= 1);
                for (int i = 0; i < 3; i++) {
                    status(probes + plan.readyPath());
                    status(probes + plan.healthPath());
                }
                result("health", status(probes + plan.healthPath()));
                result("acceptedAfterProbes", accepted(probes));
                for (List<String> other : plan.others()) {
                    result(other.get(other.indexOf("-jar") + 2), runToEnd(other));
                }
                // SIGTERM while a client stays connected: /ready turns 503 during the drain, then it exits 0.
                try (TestClient lingering = new TestClient(new InetSocketAddress("127.0.0.1", plan.echoPort()))) {
                    assertArrayEquals(new byte[] {1}, lingering.echo(new byte[] {1}));
                    server.toHandle().destroy();
                    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                            .until(() -> status(probes + plan.readyPath()) == 503);
                    result("readyWhileDraining", 503);
                }
                result("exit", server.waitFor(30, TimeUnit.SECONDS) ? server.exitValue() : -1);
            } finally {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                System.out.println("--- the server's output:\n" + output);
                Matcher stopped = Pattern.compile("(?m)^loom-echo stopped on SIGTERM").matcher(output);
                result("stoppedLines", stopped.results().count());
            }
        }

        /** Runs a command to its end with a line on stdin, as {@code docker run -i} would feed it. */
        private static int runToEnd(List<String> command) throws Exception {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                StringBuffer text = new StringBuffer();
                copy(process.getInputStream(), text);
                return text.toString();
            });
            try (OutputStream in = process.getOutputStream()) {
                in.write("from a container\n".getBytes(StandardCharsets.UTF_8));
            }
            boolean ended = process.waitFor(60, TimeUnit.SECONDS);
            process.destroyForcibly();
            System.out.println("--- " + String.join(" ", command.subList(command.indexOf("-jar") + 2, command.size()))
                    + ":\n" + output.get(10, TimeUnit.SECONDS));
            return ended ? process.exitValue() : -1;
        }

        private static int status(String uri) {
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (IOException e) {
                return -1; // not listening (yet, or any more)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        private static long accepted(String probes) throws Exception {
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(probes + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher sample = Pattern.compile("(?m)^loomecho_connections_accepted_total\\{[^}]*} (\\d+)$").matcher(metrics);
            return sample.find() ? Long.parseLong(sample.group(1)) : -1;
        }

        private static void result(String key, Object value) {
            System.out.println("RESULT " + key + "=" + value);
        }

        private static void copy(InputStream in, StringBuffer into) {
            try (in) {
                into.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                into.append("(output lost: ").append(e).append(')');
            }
        }
    }
}
