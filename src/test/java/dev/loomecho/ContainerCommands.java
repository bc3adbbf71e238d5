package dev.loomecho;

import com.google.gson.Gson;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The command lines the shipped Dockerfile and Kubernetes manifest make, composed as Docker and
 * Kubernetes compose them: a container runs ENTRYPOINT followed by CMD; {@code docker run IMAGE ARGS}
 * replaces CMD with ARGS; in a pod, {@code command} replaces ENTRYPOINT (and then CMD is dropped too),
 * {@code args} replaces CMD.
 */
final class ContainerCommands {

    static final Path DOCKERFILE = Path.of("Dockerfile");
    static final Path MANIFEST = Path.of("deploy/kubernetes.yaml");
    /** Where the Dockerfile puts the jar in the image. */
    static final String IMAGE_JAR = "/app/loom-echo.jar";

    private ContainerCommands() {
    }

    /** ENTRYPOINT or CMD in exec (JSON array) form; the shell form would put sh -c before java and lose SIGTERM. */
    static List<String> instruction(String name) throws IOException {
        String dockerfile = Files.readString(DOCKERFILE).replace("\\\n", " ");
        Matcher found = Pattern.compile("(?m)^" + name + "\\s+(\\[.*])\\s*$").matcher(dockerfile);
        if (!found.find()) {
            throw new AssertionError("the Dockerfile has no " + name + " in exec form");
        }
        String[] words = new Gson().fromJson(found.group(1), String[].class);
        if (found.find()) {
            throw new AssertionError("the Dockerfile has two " + name + " lines; only the last would count");
        }
        return List.of(words);
    }

    /** {@code docker run IMAGE runArguments...}: ENTRYPOINT, then the arguments or, with none, CMD. */
    static List<String> dockerRun(String... runArguments) throws IOException {
        List<String> command = new ArrayList<>(instruction("ENTRYPOINT"));
        command.addAll(runArguments.length == 0 ? instruction("CMD") : List.of(runArguments));
        return command;
    }

    /** What the Deployment's container runs, by the Kubernetes rules for command and args. */
    static List<String> kubernetes() throws IOException {
        Map<String, Object> container = deploymentContainer();
        @SuppressWarnings("unchecked") List<String> command = (List<String>) container.get("command");
        @SuppressWarnings("unchecked") List<String> args = (List<String>) container.get("args");
        List<String> composed = new ArrayList<>(command != null ? command : instruction("ENTRYPOINT"));
        if (args != null) {
            composed.addAll(args);
        } else if (command == null) {
            composed.addAll(instruction("CMD"));
        }
        return composed;
    }

    /** The command's arguments to loom-echo itself: what follows {@code -jar JAR}. */
    static List<String> cliArguments(List<String> command) {
        int jar = command.indexOf("-jar");
        if (jar < 0 || jar + 1 >= command.size() || !command.get(jar + 1).equals(IMAGE_JAR)) {
            throw new AssertionError("the command does not run -jar " + IMAGE_JAR + ": " + command);
        }
        return command.subList(jar + 2, command.size());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> deploymentContainer() throws IOException {
        Map<String, Object> deployment = manifests().stream().filter(m -> "Deployment".equals(m.get("kind")))
                .findFirst().orElseThrow();
        Map<String, Object> template = (Map<String, Object>) ((Map<String, Object>) deployment.get("spec")).get("template");
        List<Object> containers = (List<Object>) ((Map<String, Object>) template.get("spec")).get("containers");
        return (Map<String, Object>) containers.getFirst();
    }

    /** The container port a probe or Service names (a name such as {@code metrics}, or a number). */
    @SuppressWarnings("unchecked")
    static int containerPort(Object nameOrNumber) throws IOException {
        if (nameOrNumber instanceof Integer number) {
            return number;
        }
        for (Object port : (List<Object>) deploymentContainer().get("ports")) {
            Map<String, Object> declared = (Map<String, Object>) port;
            if (nameOrNumber.equals(declared.get("name"))) {
                return (Integer) declared.get("containerPort");
            }
        }
        throw new AssertionError("the container declares no port named " + nameOrNumber);
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> manifests() throws IOException {
        List<Map<String, Object>> documents = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(MANIFEST)) {
            for (Object document : new Yaml().loadAll(reader)) {
                documents.add((Map<String, Object>) document);
            }
        }
        return documents;
    }
}
