package dev.loomecho.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    /**
     * MODELS.md gives the lines of code TLS takes on each side ({@code grep -cvE '^\s*($|//|/\*|\*)' FILE}:
     * blank and comment lines left out); they are counted again here, so a change to either side that
     * leaves the table behind fails.
     */
    @Test
    void theTlsLineCountsInModelsMatchTheSources() throws IOException {
        String models = Files.readString(Path.of("docs/MODELS.md"));
        Matcher thread = Pattern.compile("\\| a thread \\(`SSLSocket`\\) \\|.*\\| (\\d+) \\+ (\\d+) \\+ (\\d+) \\|").matcher(models);
        Matcher reactor = Pattern.compile("\\| the reactor \\(`SSLEngine`\\) \\|.*\\| (\\d+) \\|").matcher(models);
        assertTrue(thread.find() && reactor.find(), "MODELS.md's TLS table of line counts");
        assertEquals(linesOfCode("src/main/java/dev/loomecho/engine/TlsHandshake.java"), Integer.parseInt(thread.group(2)),
                "TlsHandshake");
        assertEquals(linesOfCode("src/main/java/dev/loomecho/tls/TlsChannel.java"), Integer.parseInt(thread.group(3)),
                "TlsChannel");
        assertEquals(linesOfCode("src/main/java/dev/loomecho/engine/TlsSession.java"), Integer.parseInt(reactor.group(1)),
                "TlsSession");
    }

    private static long linesOfCode(String file) throws IOException {
        Pattern notCode = Pattern.compile("^\\s*($|//|/\\*|\\*).*");
        return Files.readAllLines(Path.of(file)).stream().filter(line -> !notCode.matcher(line).matches()).count();
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
    void aFrameOnOneOfSeveralLinesMakingTheSameCallMustBePinnedAndThePinFollowsTheCall(@TempDir Path root) throws IOException {
        String source = """
                package dev.loomecho;
                class Demo {
                    void serve() throws Exception {
                %s        while (read().get() >= 0) {
                            write().get();
                        }
                    }
                    java.util.concurrent.Future<Integer> read() { return null; }
                    java.util.concurrent.Future<Integer> write() { return null; }
                }
                """;
        write(root, "src/main/java/dev/loomecho/Demo.java", source.formatted("        // read, then echo\n"));
        String dump = """
                ```
                    at java.base/sun.nio.ch.PendingFuture.get(PendingFuture.java:178)
                    at dev.loomecho.Demo.serve(Demo.java:%d)
                ```
                """;
        write(root, "docs/GUIDE.md", dump.formatted(5));

        assertEquals(List.of("docs/GUIDE.md:3: Demo.java:5 is one of 2 lines of serve() that call get() (5, 6), so a shift "
                + "from one to the other would go unnoticed: say which call it is with <!-- frame: Demo.serve: TEXT --> "
                + "(TEXT: a part of that line only it has)"),
                DocSync.check(root).problems().stream().map(Object::toString).toList());

        String pinned = dump + "<!-- frame: Demo.serve: read().get() -->\n";
        write(root, "docs/GUIDE.md", pinned.formatted(5));
        assertEquals(List.of(), DocSync.check(root).problems(), "pinned to the read's line");

        // One line fewer above the loop: line 5, the read's call, is now the write's, which calls get() too.
        write(root, "src/main/java/dev/loomecho/Demo.java", source.formatted(""));
        DocSync.Result shifted = DocSync.check(root);
        assertEquals(List.of("docs/GUIDE.md:3: Demo.java:5 is not the line pinned by «read().get()» (it reads "
                + "«write().get();»); it is now Demo.java:4 (./run.sh docs updates it)"),
                shifted.problems().stream().map(Object::toString).toList());
        assertEquals(pinned.formatted(4), shifted.updatedDocs().get(root.resolve("docs/GUIDE.md")));
    }

    @Test
    void aPinThatNoFrameUsesOrThatNamesNoLineIsReported(@TempDir Path root) throws IOException {
        write(root, "src/main/java/dev/loomecho/Demo.java", """
                package dev.loomecho;
                class Demo {
                    void serve() {
                        read();
                    }
                    int read() { return -1; }
                }
                """);
        write(root, "docs/GUIDE.md", """
                ```
                    at java.base/sun.nio.ch.SocketChannelImpl.read(SocketChannelImpl.java:489)
                    at dev.loomecho.Demo.serve(Demo.java:4)
                ```
                <!-- frame: Demo.serve: channel.read(buffer) -->
                <!-- frame: Demo.gone: read() -->
                """);

        assertEquals(List.of(
                "docs/GUIDE.md:3: Demo.java:4 is not the line pinned by «channel.read(buffer)» (it reads «read();»); "
                        + "find the line in src/main/java/dev/loomecho/Demo.java and update the frame (a new thread dump shows it)",
                "docs/GUIDE.md:6: the pin names Demo.gone, which no frame of this doc shows"),
                DocSync.check(root).problems().stream().map(Object::toString).toList());
    }

    @Test
    void aJavaBlockThatIsNotAnExcerptIsReportedBecauseNothingKeepsItTrue(@TempDir Path root) throws IOException {
        write(root, "README.md", """
                Try it:

                ```java
                EchoServer.builder().port(0).start();
                ```

                ```sh
                ./run.sh serve
                ```
                """);

        assertEquals(List.of("README.md:3: this Java block is not an excerpt, so nothing keeps it equal to the code: mark "
                + "the code in its source (// docs:begin NAME … // docs:end NAME) and put <!-- code: PATH#NAME --> above the block"),
                DocSync.check(root).problems().stream().map(Object::toString).toList());
    }

    @Test
    void theSeedServersReadmeIsCheckedToo(@TempDir Path root) throws IOException {
        write(root, "seeds/README.md", "[the test](../src/test/java/dev/loomecho/seeds/Gone.java)\n");

        assertEquals(List.of("seeds/README.md:1: the link ../src/test/java/dev/loomecho/seeds/Gone.java names "
                + "src/test/java/dev/loomecho/seeds/Gone.java, which does not exist"),
                DocSync.check(root).problems().stream().map(Object::toString).toList());
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
