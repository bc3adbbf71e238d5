package dev.loomecho.docs;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.LineMap;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.TreeScanner;
import com.sun.source.util.Trees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Keeps the code the docs show equal to the code that runs. Two kinds of quotation are checked:
 *
 * <ul>
 *   <li><b>Excerpts.</b> A source marks a region with {@code // docs:begin NAME} … {@code // docs:end NAME}
 *       lines; a doc shows it in a fenced block preceded by {@code <!-- code: PATH#NAME -->} (several regions,
 *       {@code PATH#A, B}, are joined by a line {@code …}). The block must be the region, dedented, with the
 *       marker lines of other regions left out. A doc line may add a note at its end, {@code // ← …}, which
 *       the check ignores and an update keeps.</li>
 *   <li><b>Links</b> between the docs: a relative link must name a file that exists, and a {@code #fragment}
 *       a heading of that Markdown file (GitHub's anchors), so renaming a section cannot strand a link.</li>
 *   <li><b>Line references</b> in thread dumps: a frame {@code at dev.loomecho.X.method(X.java:N)} must name
 *       a line inside {@code method} (or inside a lambda of it, for {@code lambda$method$0}) that calls the
 *       method of the frame above it.</li>
 * </ul>
 *
 * <p>{@code DocsMatchSourcesTest} runs the check in {@code ./run.sh test}. {@code ./run.sh docs} (this file run
 * with {@code --update}) rewrites every excerpt from its region and every line reference whose call it can
 * find again unambiguously; what it cannot fix it prints. JDK classes only, so the JDK's source launcher runs it.
 */
public final class DocSync {

    /** The docs that quote code. */
    static final List<String> DOCS = List.of("README.md", "docs", "bench/NOTES.md");
    /** Where a frame's class is looked for, by package path. */
    static final List<String> SOURCE_ROOTS =
            List.of("src/main/java", "src/main/preview", "src/main/launcher", "src/test/java", "bench/src/main/java");

    private static final Pattern EXCERPT = Pattern.compile("^<!--\\s*code:\\s*(\\S+?)#([^>]+?)\\s*-->\\s*$");
    private static final Pattern REGION_MARKER = Pattern.compile("^\\s*(?://|#|/\\*)\\s*docs:(begin|end)\\s+(\\S+?)(?:\\s*\\*/)?\\s*$");
    private static final Pattern NOTE = Pattern.compile("\\s+// ←.*$");
    private static final Pattern OUR_FRAME = Pattern.compile(
            "\\bat (?:[\\w.]+/)?(dev\\.loomecho\\.[\\w.$]+)\\.([\\w$<>]+)\\((\\w+\\.java):(\\d+)\\)");
    private static final Pattern ANY_FRAME = Pattern.compile("^\\s*at (?:[\\w.]+/)?[\\w.$]+\\.([\\w$<>]+)\\(");
    private static final Pattern LINE_REFERENCE = Pattern.compile("\\b([A-Z]\\w*\\.java):(\\d+)\\b");
    private static final String ELISION = "…";
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");

    private final Path root;
    private final Map<Path, List<String>> sourceLines = new HashMap<>();
    private final Map<Path, List<Span>> sourceSpans = new HashMap<>();

    private DocSync(Path root) {
        this.root = root;
    }

    /** A problem found in a doc: where, and what to update. */
    public record Problem(Path doc, int line, String message) {
        @Override
        public String toString() {
            return doc + ":" + line + ": " + message;
        }
    }

    /** What a check found, and the docs as an update would write them. */
    public record Result(List<Problem> problems, Map<Path, String> updatedDocs) {
    }

    /** Checks every doc under {@code root} against the sources. */
    public static Result check(Path root) {
        DocSync sync = new DocSync(root);
        List<Problem> problems = new ArrayList<>();
        Map<Path, String> updated = new LinkedHashMap<>();
        for (Path doc : sync.docs()) {
            String text = read(doc);
            String fixed = sync.checkDoc(root.relativize(doc), text, problems);
            if (!fixed.equals(text)) {
                updated.put(doc, fixed);
            }
        }
        return new Result(problems, updated);
    }

    public static void main(String[] args) throws IOException {
        boolean update = List.of(args).contains("--update");
        Path root = Path.of("").toAbsolutePath();
        Result result = check(root);
        if (update) {
            for (Map.Entry<Path, String> doc : result.updatedDocs().entrySet()) {
                Files.writeString(doc.getKey(), doc.getValue(), StandardCharsets.UTF_8);
                System.out.println("updated " + root.relativize(doc.getKey()));
            }
            Result after = check(root);
            after.problems().forEach(p -> System.out.println("still to fix by hand: " + p));
            System.exit(after.problems().isEmpty() ? 0 : 1);
        }
        result.problems().forEach(System.out::println);
        if (!result.problems().isEmpty()) {
            System.out.println(result.problems().size() + " quotation(s) of the code no longer match it; "
                    + "./run.sh docs rewrites those it can");
        }
        System.exit(result.problems().isEmpty() ? 0 : 1);
    }

    private List<Path> docs() {
        List<Path> docs = new ArrayList<>();
        for (String name : DOCS) {
            Path path = root.resolve(name);
            if (Files.isDirectory(path)) {
                try (Stream<Path> files = Files.walk(path)) {
                    files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else if (Files.isRegularFile(path)) {
                docs.add(path);
            }
        }
        return docs;
    }

    /** Returns the doc as an update would write it; adds what does not match to {@code problems}. */
    private String checkDoc(Path doc, String text, List<Problem> problems) {
        List<String> lines = new ArrayList<>(text.lines().toList());
        for (int i = 0; i < lines.size(); i++) {
            Matcher excerpt = EXCERPT.matcher(lines.get(i));
            if (excerpt.matches()) {
                i = checkExcerpt(doc, lines, i, excerpt.group(1), excerpt.group(2), problems);
            }
        }
        boolean inFence = false;
        for (int i = 0; i < lines.size(); i++) {
            lines.set(i, checkLineReferences(doc, lines, i, problems));
            if (lines.get(i).startsWith("```")) {
                inFence = !inFence;
            } else if (!inFence) {
                checkLinks(doc, lines.get(i), i + 1, problems);
            }
        }
        return String.join("\n", lines) + (text.endsWith("\n") ? "\n" : "");
    }

    /** Checks (and in {@code lines}, rewrites) the fenced block after marker line {@code at}; returns its last line. */
    private int checkExcerpt(Path doc, List<String> lines, int at, String file, String regionList, List<Problem> problems) {
        int open = at + 1;
        if (open >= lines.size() || !lines.get(open).startsWith("```")) {
            problems.add(new Problem(doc, at + 1, "the code marker must be followed at once by a ``` block"));
            return at;
        }
        int close = open + 1;
        while (close < lines.size() && !lines.get(close).startsWith("```")) {
            close++;
        }
        if (close == lines.size()) {
            problems.add(new Problem(doc, open + 1, "the ``` block is never closed"));
            return at;
        }
        List<String> expected;
        try {
            expected = regions(file, regionList);
        } catch (IllegalArgumentException e) {
            problems.add(new Problem(doc, at + 1, e.getMessage()));
            return close;
        }
        List<String> shown = lines.subList(open + 1, close);
        int mismatch = firstMismatch(shown, expected);
        if (mismatch < 0) {
            return close;
        }
        String was = mismatch < shown.size() ? shown.get(mismatch).strip() : "(end of the block)";
        String is = mismatch < expected.size() ? expected.get(mismatch).strip() : "(end of the region)";
        problems.add(new Problem(doc, open + 2 + mismatch, "the excerpt of " + file + "#" + regionList.strip()
                + " no longer matches the source: the doc shows «" + was + "», the source has «" + is
                + "»; update the doc (./run.sh docs) or the region markers"));
        List<String> rewritten = withNotes(expected, shown);
        shown.clear();
        shown.addAll(rewritten);
        return open + 1 + rewritten.size();
    }

    /** The named regions of {@code file}, dedented and joined by an elision line. */
    private List<String> regions(String file, String regionList) {
        Path source = root.resolve(file);
        if (!Files.isRegularFile(source)) {
            throw new IllegalArgumentException("the code marker names " + file + ", which does not exist");
        }
        List<String> all = read(source).lines().toList();
        List<String> joined = new ArrayList<>();
        for (String name : regionList.split(",")) {
            if (!joined.isEmpty()) {
                joined.add(ELISION);
            }
            joined.addAll(dedent(region(all, file, name.strip())));
        }
        return joined;
    }

    private static List<String> region(List<String> lines, String file, String name) {
        List<String> region = null;
        List<String> found = null;
        for (String line : lines) {
            Matcher marker = REGION_MARKER.matcher(line);
            if (marker.matches()) {
                boolean begin = marker.group(1).equals("begin");
                if (marker.group(2).equals(name)) {
                    if (begin) {
                        if (found != null || region != null) {
                            throw new IllegalArgumentException(file + " marks region " + name + " twice");
                        }
                        region = new ArrayList<>();
                    } else if (region != null) {
                        found = region;
                        region = null;
                    }
                }
                continue; // marker lines are never part of an excerpt
            }
            if (region != null) {
                region.add(line);
            }
        }
        if (region != null) {
            throw new IllegalArgumentException(file + " begins region " + name + " but never ends it (// docs:end " + name + ")");
        }
        if (found == null) {
            throw new IllegalArgumentException(file + " has no region " + name
                    + " (mark it with // docs:begin " + name + " … // docs:end " + name + ")");
        }
        return found;
    }

    private static List<String> dedent(List<String> lines) {
        int indent = lines.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent).stripTrailing()).toList();
    }

    private static String withoutNote(String line) {
        return NOTE.matcher(line).replaceFirst("").stripTrailing();
    }

    private static int firstMismatch(List<String> shown, List<String> expected) {
        for (int i = 0; i < Math.max(shown.size(), expected.size()); i++) {
            if (i >= shown.size() || i >= expected.size()) {
                return i;
            }
            String doc = shown.get(i).stripTrailing();
            String source = expected.get(i);
            if (!doc.equals(source) && !(withoutNote(doc).equals(source) && !source.contains("// ←"))) {
                return i;
            }
        }
        return -1;
    }

    /** The source's lines, each with the note the doc had on the same line of code, if any. */
    private static List<String> withNotes(List<String> expected, List<String> shown) {
        Map<String, Deque<String>> notes = new HashMap<>();
        for (String line : shown) {
            Matcher note = NOTE.matcher(line);
            if (note.find()) {
                notes.computeIfAbsent(withoutNote(line).strip(), k -> new ArrayDeque<>()).add(note.group());
            }
        }
        List<String> result = new ArrayList<>();
        for (String line : expected) {
            Deque<String> queue = notes.get(line.strip());
            result.add(queue == null || queue.isEmpty() ? line : line + queue.poll());
        }
        return result;
    }

    private void checkLinks(Path doc, String line, int lineNumber, List<Problem> problems) {
        Matcher link = LINK.matcher(line);
        while (link.find()) {
            String target = link.group(1);
            if (target.matches("^[a-z]+:.*")) {
                continue; // https:, mailto:: not ours to check
            }
            int hash = target.indexOf('#');
            String file = hash < 0 ? target : target.substring(0, hash);
            Path resolved = file.isEmpty() ? root.resolve(doc) : root.resolve(doc).getParent().resolve(file).normalize();
            if (!Files.exists(resolved)) {
                problems.add(new Problem(doc, lineNumber, "the link " + target + " names " + root.relativize(resolved)
                        + ", which does not exist"));
            } else if (hash >= 0 && resolved.toString().endsWith(".md")
                    && !anchors(resolved).contains(target.substring(hash + 1))) {
                problems.add(new Problem(doc, lineNumber, "the link " + target + " names no heading of "
                        + root.relativize(resolved) + " (GitHub makes #" + target.substring(hash + 1)
                        + " from a heading; was the section renamed?)"));
            }
        }
    }

    private final Map<Path, List<String>> anchorCache = new HashMap<>();

    /** GitHub's anchors for the headings of a Markdown file: lower case, punctuation dropped, spaces to hyphens. */
    private List<String> anchors(Path markdown) {
        return anchorCache.computeIfAbsent(markdown, file -> {
            List<String> anchors = new ArrayList<>();
            Map<String, Integer> seen = new HashMap<>();
            boolean inFence = false;
            for (String line : read(file).lines().toList()) {
                if (line.startsWith("```")) {
                    inFence = !inFence;
                    continue;
                }
                Matcher heading = HEADING.matcher(line);
                if (!inFence && heading.matches()) {
                    String anchor = heading.group(1).toLowerCase(java.util.Locale.ROOT)
                            .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
                    int n = seen.merge(anchor, 1, Integer::sum);
                    anchors.add(n == 1 ? anchor : anchor + "-" + (n - 1));
                }
            }
            return anchors;
        });
    }

    /** Checks the line references on doc line {@code i}; returns the line with those it could fix fixed. */
    private String checkLineReferences(Path doc, List<String> lines, int i, List<Problem> problems) {
        String line = lines.get(i);
        Matcher frame = OUR_FRAME.matcher(line);
        if (frame.find()) {
            String className = frame.group(1);
            String method = frame.group(2);
            String file = frame.group(3);
            int lineNumber = Integer.parseInt(frame.group(4));
            Optional<Path> source = sourceOf(className, file);
            if (source.isEmpty()) {
                problems.add(new Problem(doc, i + 1, "the frame names " + className + ", whose source " + file
                        + " is not in " + SOURCE_ROOTS));
                return line;
            }
            String callee = calleeAbove(lines, i);
            Optional<String> wrong = wrongLine(source.get(), method, callee, lineNumber);
            if (wrong.isEmpty()) {
                return line;
            }
            List<Integer> candidates = linesCalling(source.get(), method, callee);
            String where = root.relativize(source.get()).toString();
            if (candidates.size() == 1) {
                problems.add(new Problem(doc, i + 1, file + ":" + lineNumber + " " + wrong.get() + "; it is now "
                        + file + ":" + candidates.get(0) + " (./run.sh docs updates it)"));
                return line.substring(0, frame.start(4)) + candidates.get(0) + line.substring(frame.end(4));
            }
            problems.add(new Problem(doc, i + 1, file + ":" + lineNumber + " " + wrong.get()
                    + "; find the line in " + where + " and update the frame (a new thread dump shows it)"));
            return line;
        }
        Matcher reference = LINE_REFERENCE.matcher(line);
        while (reference.find()) {
            String file = reference.group(1);
            if (isOurs(file)) {
                problems.add(new Problem(doc, i + 1, file + ":" + reference.group(2) + " is a line reference the check "
                        + "cannot verify: quote it as a thread-dump frame (at dev.loomecho.….method(" + file + ":N)) or drop it"));
            }
        }
        return line;
    }

    /** The method name of the frame printed above line {@code i} (the call this frame's line makes), if any. */
    private static String calleeAbove(List<String> lines, int i) {
        for (int j = i - 1; j >= 0; j--) {
            String above = lines.get(j).strip();
            if (above.startsWith("- ")) {
                continue; // "- parking to wait for …", "- locked …": about the frame above, not a frame
            }
            Matcher frame = ANY_FRAME.matcher(above);
            return frame.find() ? frame.group(1) : null; // "…" or anything else: the call is not known
        }
        return null;
    }

    /** Why {@code lineNumber} is not the line the frame names, or empty if it is. */
    private Optional<String> wrongLine(Path source, String method, String callee, int lineNumber) {
        List<String> text = lines(source);
        if (lineNumber < 1 || lineNumber > text.size()) {
            return Optional.of("is past the end of the file");
        }
        Span owner = innermost(source, lineNumber);
        if (owner == null || !owner.frameName().equals(method) && !owner.matchesLambdaOf(method)) {
            return Optional.of("is not in " + method + "() but in " + (owner == null ? "no method" : owner.describe()));
        }
        if (callee != null && !calls(text.get(lineNumber - 1), callee)) {
            return Optional.of("does not call " + callee + "() (it reads «" + text.get(lineNumber - 1).strip() + "»)");
        }
        return Optional.empty();
    }

    private List<Integer> linesCalling(Path source, String method, String callee) {
        List<String> text = lines(source);
        List<Integer> found = new ArrayList<>();
        if (callee == null) {
            return found;
        }
        for (int n = 1; n <= text.size(); n++) {
            Span owner = innermost(source, n);
            if (owner != null && (owner.frameName().equals(method) || owner.matchesLambdaOf(method))
                    && calls(text.get(n - 1), callee)) {
                found.add(n);
            }
        }
        return found;
    }

    private static boolean calls(String line, String callee) {
        String code = line.replaceFirst("//.*$", "");
        if (callee.equals("<init>")) {
            return code.contains("new ");
        }
        if (callee.startsWith("lambda$")) {
            return code.contains("->");
        }
        return Pattern.compile("\\b" + Pattern.quote(callee) + "\\s*\\(").matcher(code).find();
    }

    private Optional<Path> sourceOf(String className, String file) {
        String outer = className.contains("$") ? className.substring(0, className.indexOf('$')) : className;
        String packagePath = outer.substring(0, outer.lastIndexOf('.')).replace('.', '/');
        return SOURCE_ROOTS.stream().map(r -> root.resolve(r).resolve(packagePath).resolve(file))
                .filter(Files::isRegularFile).findFirst();
    }

    private boolean isOurs(String file) {
        for (String r : SOURCE_ROOTS) {
            Path dir = root.resolve(r);
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.walk(dir)) {
                    if (files.anyMatch(f -> f.getFileName().toString().equals(file))) {
                        return true;
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return false;
    }

    private List<String> lines(Path source) {
        return sourceLines.computeIfAbsent(source, s -> read(s).lines().toList());
    }

    /** A method or lambda of a source file, by the lines it spans. */
    private record Span(String name, boolean lambda, String enclosingMethod, long first, long last) {
        String frameName() {
            return lambda ? "lambda$" + enclosingMethod + "$" : name;
        }

        boolean matchesLambdaOf(String frameMethod) {
            return lambda && frameMethod.startsWith("lambda$" + enclosingMethod + "$");
        }

        String describe() {
            return lambda ? "a lambda of " + enclosingMethod + "()" : name + "()";
        }
    }

    private Span innermost(Path source, long line) {
        Span best = null;
        for (Span span : spans(source)) {
            if (span.first() <= line && line <= span.last()
                    && (best == null || span.last() - span.first() <= best.last() - best.first())) {
                best = span;
            }
        }
        return best;
    }

    private List<Span> spans(Path source) {
        return sourceSpans.computeIfAbsent(source, DocSync::parse);
    }

    /** Every method and lambda of {@code source}, with its first and last line, from javac's parser. */
    private static List<Span> parse(Path source) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            JavacTask task = (JavacTask) javac.getTask(null, files, d -> { }, List.of("-proc:none"), null,
                    files.getJavaFileObjects(source));
            SourcePositions positions = Trees.instance(task).getSourcePositions();
            List<Span> spans = new ArrayList<>();
            for (CompilationUnitTree unit : task.parse()) {
                LineMap lineMap = unit.getLineMap();
                new TreeScanner<Void, Deque<String>>() {
                    private void add(Tree tree, String name, boolean lambda, Deque<String> methods) {
                        long start = positions.getStartPosition(unit, tree);
                        long end = positions.getEndPosition(unit, tree);
                        spans.add(new Span(name, lambda, methods.isEmpty() ? "new" : methods.peek(),
                                lineMap.getLineNumber(start), lineMap.getLineNumber(end)));
                    }

                    @Override
                    public Void visitMethod(MethodTree method, Deque<String> methods) {
                        add(method, method.getName().toString(), false, methods);
                        methods.push(method.getName().toString());
                        try {
                            return super.visitMethod(method, methods);
                        } finally {
                            methods.pop();
                        }
                    }

                    @Override
                    public Void visitLambdaExpression(LambdaExpressionTree lambda, Deque<String> methods) {
                        add(lambda, "lambda", true, methods);
                        return super.visitLambdaExpression(lambda, methods);
                    }

                    @Override
                    public Void visitClass(ClassTree type, Deque<String> methods) {
                        return super.visitClass(type, new ArrayDeque<>()); // a nested class's lambdas name its methods
                    }
                }.scan(unit, new ArrayDeque<>());
            }
            return spans;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path path) {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
