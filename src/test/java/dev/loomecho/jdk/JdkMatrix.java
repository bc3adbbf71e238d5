package dev.loomecho.jdk;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.loomecho.ChildServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.UniqueId;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * {@code ./run.sh test-jdks}: the jar checked on each JDK given, one line per JDK; exit 1 if any check fails.
 * Each argument is a java command, e.g. {@code chroot ROOT /usr/lib/jvm/java-27-openjdk-amd64/bin/java}
 * (see {@link TargetJava}). On each: {@code --version}; the wire-level conformance suite against every
 * engine as a {@code java -jar} process on that JDK, driven from this JVM; {@link ConsumerIT} (the library
 * and the JUnit extension in a test JVM of that JDK, no flags); and the supervisor the server reports,
 * with {@code --enable-preview} too on the release the jar's StructuredTaskScope supervisor was built for.
 */
public final class JdkMatrix {

    private static final String WIRE_SUITE = "dev.loomecho.WireConformanceTest";
    private static final Path JAR = Path.of("target/loom-echo.jar");
    private static final Pattern ENGINE = Pattern.compile("engine (\\w+)");
    private static final Pattern SUPERVISOR = Pattern.compile("under a ([\\w-]+(?: [\\w-]+)*)");

    private JdkMatrix() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: JdkMatrix JAVA_COMMAND... (e.g. \"chroot ROOT /usr/lib/jvm/java-27-openjdk-amd64/bin/java\")");
            System.exit(2);
        }
        boolean allPassed = true;
        for (String command : args) {
            Report report = check(TargetJava.parse(command));
            System.out.println(report.line());
            System.out.flush();
            allPassed &= report.passed();
        }
        System.exit(allPassed ? 0 : 1);
    }

    /** One JDK's results; {@code problems} go to stderr, the line to stdout. */
    record Report(String line, boolean passed) {
    }

    static Report check(TargetJava java) throws Exception {
        long started = System.nanoTime();
        List<String> problems = new ArrayList<>();
        int feature;
        try {
            feature = java.feature();
        } catch (RuntimeException e) {
            return new Report("FAIL  " + java + ": " + e.getMessage().lines().findFirst().orElse(""), false);
        }
        String version = version(java, feature, problems);
        String engines = conformance(java, problems);
        String consumer = consumer(java, problems);
        String supervisor = supervisor(java, feature, problems);
        for (String problem : problems) {
            System.err.println("Java " + feature + ": " + problem);
        }
        long seconds = (System.nanoTime() - started) / 1_000_000_000;
        String line = String.format("%s  Java %-26s --version %s | engines %s | consumer test %s | supervisor %s | %d s",
                problems.isEmpty() ? "PASS" : "FAIL", java.runtimeVersion(), version, engines, consumer, supervisor, seconds);
        return new Report(line, problems.isEmpty());
    }

    /** {@code --version} prints the jar's version and this Java's, nothing on stderr, exit 0. */
    private static String version(TargetJava java, int feature, List<String> problems) {
        JavaRuntimes.Outcome run = JavaRuntimes.run(java.command(List.of("-jar", java.pathOf(JAR), "--version")),
                Collections.singletonMap("JDK_JAVA_OPTIONS", null));
        if (run.exitCode() == 0 && run.stderr().isEmpty()
                && run.stdout().matches("(?s)loom-echo \\S+\\nJava " + feature + "\\b.*")) {
            return "ok";
        }
        problems.add("--version: exit " + run.exitCode() + ", stdout " + run.stdout().strip() + ", stderr " + run.stderr().strip());
        return "FAILED";
    }

    /** The wire suite with every engine in a process on {@code java}: "5/5 passed (virtual ...)". */
    private static String conformance(TargetJava java, List<String> problems) {
        Outcomes results = runWithTargetJava(java, WIRE_SUITE, new Outcomes());
        long passed = results.failures.values().stream().filter(List::isEmpty).count();
        results.failures.forEach((engine, failures) -> failures.forEach(f -> problems.add("engine " + engine + ": " + f)));
        if (results.failures.isEmpty() || results.succeeded == 0) {
            problems.add("the wire-level suite ran no test" + results.orphans);
            return "none ran";
        }
        results.orphans.forEach(problems::add);
        return passed + "/" + results.failures.size() + " passed (" + String.join(" ", results.failures.keySet()) + "; "
                + results.succeeded + " of " + results.finished + " tests)";
    }

    /** {@link ConsumerIT} with its consumer JVM on {@code java}. */
    private static String consumer(TargetJava java, List<String> problems) {
        Outcomes results = runWithTargetJava(java, ConsumerIT.class.getName(), new Outcomes());
        List<String> failures = new ArrayList<>(results.orphans);
        results.failures.values().forEach(failures::addAll);
        failures.forEach(f -> problems.add("consumer test: " + f));
        if (failures.isEmpty() && results.succeeded > 0) {
            return "passed";
        }
        if (results.succeeded == 0 && failures.isEmpty()) {
            problems.add("consumer test: no test ran");
        }
        return "FAILED";
    }

    /**
     * What {@code serve --engine virtual} says supervises its connections: a thread-per-task executor, or a
     * StructuredTaskScope with {@code --enable-preview} on the release the jar's preview class was built for.
     */
    private static String supervisor(TargetJava java, int feature, List<String> problems) throws IOException {
        String plain = reportedSupervisor(java, List.of(), problems);
        if (!plain.equals("thread-per-task executor")) {
            problems.add("supervisor without flags: expected a thread-per-task executor, the server said: " + plain);
        }
        if (!String.valueOf(feature).equals(buildProperty("preview.release"))) {
            return plain;
        }
        String preview = reportedSupervisor(java, List.of("--enable-preview"), problems);
        if (!preview.equals("StructuredTaskScope")) {
            problems.add("supervisor with --enable-preview: expected a StructuredTaskScope, the server said: " + preview);
        }
        return preview + " with --enable-preview, " + plain + " without";
    }

    private static String reportedSupervisor(TargetJava java, List<String> options, List<String> problems) {
        List<String> launch = new ArrayList<>(List.of("-Xmx256m"));
        launch.addAll(options);
        launch.addAll(List.of("-jar", java.pathOf(JAR)));
        try (ChildServer server = ChildServer.startWith(java.command(launch), "--engine", "virtual")) {
            server.address();
            String listening = server.output().lines().filter(l -> l.contains("listening on")).findFirst().orElse("");
            Matcher m = SUPERVISOR.matcher(listening);
            return m.find() ? m.group(1) : "nothing (" + listening + ")";
        } catch (Exception e) {
            problems.add("serve " + options + ": " + e.getMessage());
            return "FAILED";
        }
    }

    private static String buildProperty(String name) throws IOException {
        Properties build = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("target/classes/loom-echo.properties"))) {
            build.load(in);
        }
        return build.getProperty(name, "");
    }

    /** Runs the test class {@code className} in this JVM with {@code loomecho.test.java} set to {@code java}. */
    private static <L extends TestExecutionListener> L runWithTargetJava(TargetJava java, String className, L listener) {
        String previous = System.getProperty(TargetJava.PROPERTY);
        System.setProperty(TargetJava.PROPERTY, java.toString());
        try {
            LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                    .selectors(selectClass(className)).build();
            LauncherFactory.create().execute(request, listener);
            return listener;
        } finally {
            if (previous == null) {
                System.clearProperty(TargetJava.PROPERTY);
            } else {
                System.setProperty(TargetJava.PROPERTY, previous);
            }
        }
    }

    /**
     * Test results grouped by the engine of the parameterized-class invocation each test ran in; failures
     * outside any invocation (discovery, a container's set-up) are {@code orphans}.
     */
    private static final class Outcomes implements TestExecutionListener {
        final Map<String, List<String>> failures = new TreeMap<>();
        final List<String> orphans = new ArrayList<>();
        long succeeded;
        long finished;
        private TestPlan plan;

        @Override
        public void testPlanExecutionStarted(TestPlan testPlan) {
            plan = testPlan;
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            Optional<String> engine = invocation(id).map(invocation -> {
                Matcher m = ENGINE.matcher(invocation.getDisplayName());
                return m.find() ? m.group(1) : invocation.getDisplayName();
            });
            engine.ifPresent(name -> failures.computeIfAbsent(name, k -> new ArrayList<>()));
            if (id.isTest()) {
                finished++;
                if (result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                    succeeded++;
                }
            }
            if (result.getStatus() != TestExecutionResult.Status.FAILED) {
                return; // ABORTED is a test whose assumption does not hold on this JDK: skipped, not failed
            }
            String why = id.getDisplayName() + ": " + result.getThrowable().map(Outcomes::oneLine)
                    .orElse(result.getStatus().toString());
            engine.ifPresentOrElse(name -> failures.get(name).add(why), () -> orphans.add(why));
        }

        /** The exception and its message (a child server's output, say) on one line, at most 400 characters. */
        private static String oneLine(Throwable t) {
            String text = String.join(" / ", t.toString().lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
            return text.length() <= 400 ? text : text.substring(0, 400) + " ...";
        }

        /** The class-template invocation {@code id} belongs to (itself included), if any. */
        private Optional<TestIdentifier> invocation(TestIdentifier id) {
            Optional<TestIdentifier> current = Optional.of(id);
            while (current.isPresent()) {
                UniqueId unique = current.get().getUniqueIdObject();
                if (unique.getLastSegment().getType().equals("class-template-invocation")) {
                    return current;
                }
                current = plan.getParent(current.get());
            }
            return Optional.empty();
        }
    }
}
