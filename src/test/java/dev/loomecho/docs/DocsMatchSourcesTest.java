package dev.loomecho.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The code the docs quote is the code that runs: excerpts equal their marked regions, frames name real lines. */
class DocsMatchSourcesTest {

    @Test
    void everyExcerptAndLineReferenceInTheDocsMatchesTheSources() {
        DocSync.Result result = DocSync.check(Path.of("").toAbsolutePath());
        assertTrue(result.problems().isEmpty(), () -> result.problems().stream().map(Object::toString)
                .collect(Collectors.joining("\n", "the docs quote code that has changed:\n",
                        "\nrun ./run.sh docs to rewrite the excerpts and line numbers it can, then review the diff")));
    }

    @Test
    void anExcerptThatNoLongerMatchesItsRegionIsReportedAndRewrittenKeepingItsNotes(@TempDir Path root) throws IOException {
        write(root, "src/main/java/dev/loomecho/Demo.java", """
                package dev.loomecho;
                class Demo {
                    void serve() {
                        // docs:begin loop
                        while (read() >= 0) {
                            write();
                        }
                        // docs:end loop
                    }
                    int read() { return -1; }
                    void write() { }
                }
                """);
        write(root, "docs/GUIDE.md", """
                <!-- code: src/main/java/dev/loomecho/Demo.java#loop -->
                ```java
                while (read() > 0) {   // ← waits here
                    write();
                }
                ```
                """);

        DocSync.Result result = DocSync.check(root);

        assertEquals(1, result.problems().size(), result.problems()::toString);
        String problem = result.problems().get(0).toString();
        assertTrue(problem.contains("docs/GUIDE.md:3") && problem.contains("while (read() >= 0) {"), problem);
        assertEquals("""
                <!-- code: src/main/java/dev/loomecho/Demo.java#loop -->
                ```java
                while (read() >= 0) {
                    write();
                }
                ```
                """, result.updatedDocs().get(root.resolve("docs/GUIDE.md")),
                "a changed line loses its note; the region's lines replace the doc's");
    }

    @Test
    void aNoteOnAnUnchangedLineIsNoMismatchAndSurvivesAnUpdate(@TempDir Path root) throws IOException {
        write(root, "src/main/java/dev/loomecho/Demo.java", """
                package dev.loomecho;
                class Demo {
                    void serve() {
                        // docs:begin loop
                        while (read() >= 0) {
                            write();
                            write();
                        }
                        // docs:end loop
                    }
                    int read() { return -1; }
                    void write() { }
                }
                """);
        write(root, "docs/GUIDE.md", """
                <!-- code: src/main/java/dev/loomecho/Demo.java#loop -->
                ```java
                while (read() >= 0) {   // ← waits here
                    write();
                }
                ```
                """);

        DocSync.Result result = DocSync.check(root);

        assertEquals(1, result.problems().size(), result.problems()::toString);
        assertTrue(result.updatedDocs().get(root.resolve("docs/GUIDE.md"))
                .contains("while (read() >= 0) {   // ← waits here\n    write();\n    write();\n}"));
    }

    @Test
    void aThreadDumpFrameMustNameTheLineThatMakesTheCallOfTheFrameAboveIt(@TempDir Path root) throws IOException {
        write(root, "src/main/java/dev/loomecho/Demo.java", """
                package dev.loomecho;
                class Demo {
                    void serve() {
                        int n = 0;
                        while (read() >= 0) {
                            n++;
                        }
                    }
                    int read() { return -1; }
                }
                """);
        String dump = """
                ```
                    at java.base/sun.nio.ch.SocketChannelImpl.read(SocketChannelImpl.java:489)
                    at dev.loomecho.Demo.serve(Demo.java:%d)
                ```
                """;
        write(root, "docs/GUIDE.md", dump.formatted(4));

        DocSync.Result result = DocSync.check(root);

        assertEquals(List.of("docs/GUIDE.md:3: Demo.java:4 does not call read() (it reads «int n = 0;»); "
                + "it is now Demo.java:5 (./run.sh docs updates it)"),
                result.problems().stream().map(Object::toString).toList());
        assertEquals(dump.formatted(5), result.updatedDocs().get(root.resolve("docs/GUIDE.md")));

        write(root, "docs/GUIDE.md", dump.formatted(5));
        assertEquals(List.of(), DocSync.check(root).problems());
    }

    @Test
    void aMissingRegionOrFileSaysHowToMarkIt(@TempDir Path root) throws IOException {
        write(root, "src/main/java/dev/loomecho/Demo.java", "package dev.loomecho;\nclass Demo { }\n");
        write(root, "README.md", """
                <!-- code: src/main/java/dev/loomecho/Demo.java#loop -->
                ```java
                ```
                <!-- code: src/main/java/dev/loomecho/Gone.java#loop -->
                ```java
                ```
                """);

        List<String> problems = DocSync.check(root).problems().stream().map(Object::toString).toList();

        assertEquals(2, problems.size(), problems::toString);
        assertTrue(problems.get(0).contains("has no region loop (mark it with // docs:begin loop"), problems.get(0));
        assertTrue(problems.get(1).contains("Gone.java, which does not exist"), problems.get(1));
    }

    @Test
    void aLinkToAMissingFileOrSectionIsReported(@TempDir Path root) throws IOException {
        write(root, "docs/GUIDE.md", """
                # The guide
                ## The `virtual` engine — made scalable
                See [above](#the-virtual-engine--made-scalable) and [the lab](LAB.md#lab), [JEP 491](https://openjdk.org/jeps/491).
                """);
        write(root, "README.md", """
                [guide](docs/GUIDE.md#the-guide), [gone](docs/GUIDE.md#the-engines), [missing](docs/MISSING.md)
                """);

        List<String> problems = DocSync.check(root).problems().stream().map(Object::toString).toList();

        assertEquals(List.of(
                "README.md:1: the link docs/GUIDE.md#the-engines names no heading of docs/GUIDE.md (GitHub makes "
                        + "#the-engines from a heading; was the section renamed?)",
                "README.md:1: the link docs/MISSING.md names docs/MISSING.md, which does not exist",
                "docs/GUIDE.md:3: the link LAB.md#lab names docs/LAB.md, which does not exist"), problems);
    }

    private static void write(Path root, String file, String text) throws IOException {
        Path path = root.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }
}
