package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.loomecho.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * Docker cannot build here and there is no cluster, so what can be checked is checked: the manifest
 * parses, names the right port, probes it, passes arguments the CLI accepts, and matches the Dockerfile.
 */
class DeploymentFilesTest {

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> manifests() throws IOException {
        List<Map<String, Object>> documents = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(Path.of("deploy/kubernetes.yaml"))) {
            for (Object document : new Yaml().loadAll(reader)) {
                documents.add((Map<String, Object>) document);
            }
        }
        return documents;
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
    void theDeploymentProbesTheEchoPortItDeclares() throws IOException {
        Map<String, Object> container = at(kind("Deployment"), "spec", "template", "spec", "containers", "0");
        assertEquals(7007, (int) at(container, "ports", "0", "containerPort"));
        assertEquals("echo", at(container, "ports", "0", "name"));
        assertEquals("echo", at(container, "readinessProbe", "tcpSocket", "port"));
        assertEquals("echo", at(container, "livenessProbe", "tcpSocket", "port"));
        List<String> args = at(container, "args");
        assertEquals("7007", args.get(args.indexOf("--port") + 1));
        assertEquals("0.0.0.0", args.get(args.indexOf("--bind") + 1), "loopback would be unreachable from the Service");
        assertTrue(at(container, "resources", "requests", "memory") != null && at(container, "resources", "limits", "memory") != null);
    }

    @Test
    void theDeploymentsArgumentsAreAcceptedByTheCli() throws IOException {
        List<String> args = new ArrayList<>(at(kind("Deployment"), "spec", "template", "spec", "containers", "0", "args"));
        args.add("--help"); // parse every option, then print help instead of serving
        assertEquals(0, Main.commandLine().execute(args.toArray(String[]::new)));
    }

    @Test
    void theGracePeriodOutlastsTheDrainTimeout() throws IOException {
        Map<String, Object> pod = at(kind("Deployment"), "spec", "template", "spec");
        List<String> args = at(pod, "containers", "0", "args");
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
    void theDockerfileRunsOnTemurin25WithPreviewOnTheSamePorts() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        assertTrue(dockerfile.contains("FROM eclipse-temurin:25-jre"), "official Temurin 25 JRE base");
        assertTrue(dockerfile.contains("\"--enable-preview\""));
        Matcher expose = Pattern.compile("EXPOSE (\\d+) (\\d+) (\\d+)").matcher(dockerfile);
        assertTrue(expose.find());
        assertEquals("7007", expose.group(1));
        assertEquals("9090", expose.group(2));
        assertEquals("9091", expose.group(3));
    }

    @Test
    void theDockerfilesControlPortExampleIsAcceptedByTheCli() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        Matcher run = Pattern.compile("#\\s+docker run .*-e LOOM_ECHO_CONTROL_TOKEN=.* loom-echo (--.*)").matcher(dockerfile);
        assertTrue(run.find(), "the Dockerfile shows how to turn the control port on");
        Matcher entrypoint = Pattern.compile("\"-jar\", \"/app/loom-echo.jar\",\\s*\\\\?\\s*(.*)]").matcher(dockerfile);
        assertTrue(entrypoint.find());
        List<String> args = new ArrayList<>();
        Matcher quoted = Pattern.compile("\"([^\"]*)\"").matcher(entrypoint.group(1));
        while (quoted.find()) {
            args.add(quoted.group(1));
        }
        args.addAll(List.of(run.group(1).trim().split("\\s+")));
        assumeTrue(System.getenv("LOOM_ECHO_CONTROL_TOKEN") == null, "with a token set, the CLI would really serve");
        assertEquals("9091", args.get(args.indexOf("--control-port") + 1));
        assertEquals(2, Main.commandLine().execute(args.toArray(String[]::new)),
                "on 0.0.0.0 the control port must not start without the token the example passes in the environment");
        args.add("--help");
        assertEquals(0, Main.commandLine().execute(args.toArray(String[]::new)));
    }

    @Test
    void theControlPortTakesItsTokenFromTheSecretTheInstructionsCreate() throws IOException {
        Map<String, Object> container = at(kind("Deployment"), "spec", "template", "spec", "containers", "0");
        List<String> args = at(container, "args");
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
