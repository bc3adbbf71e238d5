package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What can be checked without a container runtime or a cluster: the manifest parses, names the right
 * ports, probes the health pages, and the commands the Dockerfile and the manifest compose are ones the
 * CLI accepts. ContainerCommandsIT runs those commands for real; ./run.sh test-image runs the image.
 */
class DeploymentFilesTest {

    private static List<Map<String, Object>> manifests() throws IOException {
        return ContainerCommands.manifests();
    }

    @SuppressWarnings("unchecked")
    private static <T> T at(Object node, String... path) {
        Object current = node;
        for (String key : path) {
            current = key.matches("\\d+") ? ((List<Object>) current).get(Integer.parseInt(key)) : ((Map<String, Object>) current).get(key);
        }
        return (T) current;
    }

    private static Map<String, Object> kind(String kind) throws IOException {
        return manifests().stream().filter(m -> kind.equals(m.get("kind"))).findFirst().orElseThrow();
    }

    @Test
    void theDeploymentServesTheEchoPortItDeclaresAndProbesTheHealthPages() throws IOException {
        Map<String, Object> container = at(kind("Deployment"), "spec", "template", "spec", "containers", "0");
        assertEquals(7007, (int) at(container, "ports", "0", "containerPort"));
        assertEquals("echo", at(container, "ports", "0", "name"));
        List<String> args = ContainerCommands.cliArguments(ContainerCommands.kubernetes());
        assertEquals("7007", args.get(args.indexOf("--port") + 1));
        assertEquals("0.0.0.0", args.get(args.indexOf("--bind") + 1), "loopback would be unreachable from the Service");
        // Probes on the metrics port: a TCP probe of the echo port would be an echo connection, counted in accepted.
        int metricsPort = Integer.parseInt(args.get(args.indexOf("--metrics-port") + 1));
        assertEquals("/ready", at(container, "readinessProbe", "httpGet", "path"));
        assertEquals(metricsPort, ContainerCommands.containerPort(at(container, "readinessProbe", "httpGet", "port")));
        assertEquals("/health", at(container, "livenessProbe", "httpGet", "path"));
        assertEquals(metricsPort, ContainerCommands.containerPort(at(container, "livenessProbe", "httpGet", "port")));
        assertTrue(at(container, "resources", "requests", "memory") != null && at(container, "resources", "limits", "memory") != null);
    }

    @Test
    void theImagesEntrypointIsOnlyTheJvmAndTheJarSoArgumentsAreAWholeCommand() throws IOException {
        List<String> entrypoint = ContainerCommands.instruction("ENTRYPOINT");
        assertEquals("java", entrypoint.getFirst());
        assertEquals(List.of("-jar", ContainerCommands.IMAGE_JAR), entrypoint.subList(entrypoint.size() - 2, entrypoint.size()),
                "nothing after the jar: `docker run IMAGE load ...` and the manifest's args must be whole commands");
        assertEquals("serve", ContainerCommands.instruction("CMD").getFirst());
    }

    /** The commands Docker and Kubernetes compose, parsed by the CLI (--help: parse everything, then print help). */
    @Test
    void theComposedCommandsAreAcceptedByTheCli() throws IOException {
        for (List<String> command : List.of(ContainerCommands.dockerRun(), ContainerCommands.kubernetes(),
                ContainerCommands.dockerRun("client", "--host", "echo.example", "--port", "7007"),
                ContainerCommands.dockerRun("load", "--host", "echo.example", "--duration", "10s"))) {
            List<String> args = new ArrayList<>(ContainerCommands.cliArguments(command));
            args.add("--help");
            CommandLine cli = Main.commandLine();
            StringWriter err = new StringWriter();
            cli.setOut(new PrintWriter(new StringWriter()));
            cli.setErr(new PrintWriter(err));
            assertEquals(0, cli.execute(args.toArray(String[]::new)), command + ":\n" + err);
        }
    }

    @Test
    void theGracePeriodOutlastsTheDrainTimeout() throws IOException {
        Map<String, Object> pod = at(kind("Deployment"), "spec", "template", "spec");
        List<String> args = ContainerCommands.cliArguments(ContainerCommands.kubernetes());
        int drainSeconds = Integer.parseInt(args.get(args.indexOf("--drain-timeout") + 1).replace("s", ""));
        assertTrue((int) pod.get("terminationGracePeriodSeconds") > drainSeconds);
    }

    @Test
    void theServiceRoutesToTheEchoPort() throws IOException {
        Map<String, Object> service = kind("Service");
        assertEquals("echo", at(service, "spec", "ports", "0", "targetPort"));
        assertEquals(7007, (int) at(service, "spec", "ports", "0", "port"));
        assertEquals("TCP", at(service, "spec", "ports", "0", "protocol"));
        Object podLabels = at(kind("Deployment"), "spec", "selector", "matchLabels");
        Object serviceSelector = at(service, "spec", "selector");
        assertEquals(podLabels, serviceSelector, "the Service selects the Deployment's pods");
    }

    @Test
    void theDockerfileDefaultsToTheOfficialTemurin25ImagesWithPreviewOnTheSamePorts() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        assertTrue(dockerfile.contains("ARG RUNTIME_IMAGE=eclipse-temurin:25-jre"), "official Temurin 25 JRE base by default");
        assertTrue(dockerfile.contains("ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-25"), "Maven on Temurin 25 builds by default");
        assertTrue(dockerfile.contains("ARG JAR_FROM=build"), "by default the jar is built in the image");
        assertTrue(ContainerCommands.instruction("ENTRYPOINT").contains("--enable-preview"));
        Matcher expose = Pattern.compile("EXPOSE (\\d+) (\\d+) (\\d+)").matcher(dockerfile);
        assertTrue(expose.find());
        assertEquals("7007", expose.group(1));
        assertEquals("9090", expose.group(2));
        assertEquals("9091", expose.group(3));
    }

    @Test
    void theDockerfilesControlPortExampleIsAcceptedByTheCli() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        Matcher run = Pattern.compile("#\\s+docker run .*-e LOOM_ECHO_CONTROL_TOKEN=.* loom-echo (serve .*)").matcher(dockerfile);
        assertTrue(run.find(), "the Dockerfile shows how to turn the control port on");
        List<String> args = new ArrayList<>(ContainerCommands.cliArguments(
                ContainerCommands.dockerRun(run.group(1).trim().split("\\s+"))));
        assumeTrue(System.getenv("LOOM_ECHO_CONTROL_TOKEN") == null, "with a token set, the CLI would really serve");
        assertEquals("9091", args.get(args.indexOf("--control-port") + 1));
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cli.execute(args.toArray(String[]::new)),
                "on 0.0.0.0 the control port must not start without the token the example passes in the environment");
        args.add("--help");
        cli.setOut(new PrintWriter(new StringWriter()));
        assertEquals(0, cli.execute(args.toArray(String[]::new)));
    }

    @Test
    void theControlPortTakesItsTokenFromTheSecretTheInstructionsCreate() throws IOException {
        Map<String, Object> container = at(kind("Deployment"), "spec", "template", "spec", "containers", "0");
        List<String> args = ContainerCommands.cliArguments(ContainerCommands.kubernetes());
        assertEquals("9091", args.get(args.indexOf("--control-port") + 1));
        assertEquals("control", at(container, "ports", "2", "name"));
        assertEquals(9091, (int) at(container, "ports", "2", "containerPort"));
        assertFalse(args.contains("--control-token"), "a token in args shows in ps and in the pod spec");
        List<Map<String, Object>> env = at(container, "env");
        Map<String, Object> token = env.stream().filter(e -> "LOOM_ECHO_CONTROL_TOKEN".equals(e.get("name"))).findFirst().orElseThrow();
        String secretName = at(token, "valueFrom", "secretKeyRef", "name");
        String key = at(token, "valueFrom", "secretKeyRef", "key");
        assertFalse(Boolean.TRUE.equals(at(token, "valueFrom", "secretKeyRef", "optional")),
                "without the Secret the pods must wait for it, not start without a token and exit 2 over and over");
        // The Secret is created with kubectl, as the file's comments say; were it in the manifest, every
        // apply would replace the real token with the file's (empty) one.
        assertTrue(manifests().stream().noneMatch(m -> "Secret".equals(m.get("kind"))), "the manifest ships a Secret");
        String instructions = Files.readString(Path.of("deploy/kubernetes.yaml"));
        Matcher create = Pattern.compile("#\\s+kubectl create secret generic (\\S+) --from-literal=(\\w+)=\"\\$\\(openssl rand")
                .matcher(instructions);
        assertTrue(create.find(), "the file says how to create the Secret");
        assertEquals(secretName, create.group(1), "the Secret the instructions create is the one the Deployment reads");
        assertEquals(key, create.group(2));
        assertTrue(instructions.indexOf("kubectl create secret") < instructions.indexOf("kubectl apply"),
                "create the Secret, then apply");
        assertEquals("control", at(kind("Service"), "spec", "ports", "2", "targetPort"));

        assumeTrue(System.getenv("LOOM_ECHO_CONTROL_TOKEN") == null, "with a token set, the CLI would really serve");
        // Without the Secret's token the server refuses to start (exit 2 before binding anything): it fails closed.
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cli.execute(args.toArray(String[]::new)));
    }
}
