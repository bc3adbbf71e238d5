package dev.loomecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.Engine;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ModelsTest {

    private static final Path GUIDE = Path.of("docs/MODELS.md");

    @Test
    void modelsCommandNamesEverySeedModelAndEveryEngine() {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        assertEquals(0, cli.execute("models"));
        for (String model : List.of("thread per connection", "select", "WSAAsyncSelect", "WSAEventSelect",
                "overlapped I/O + event objects", "overlapped I/O + completion routines", "I/O completion ports",
                "WSAAccept condition function")) {
            assertTrue(out.toString().contains(model), "models lacks " + model);
        }
        for (Engine engine : Engine.values()) {
            assertTrue(out.toString().contains(engine.cliName()), "models lacks engine " + engine.cliName());
        }
    }

    @Test
    void theGuideCoversEverySeedModelAndEveryEngine() throws IOException {
        String guide = Files.readString(GUIDE).replace("`", "");
        for (Models.Row row : Models.ROWS) {
            assertTrue(guide.contains(row.winsockModel()), "docs/MODELS.md lacks " + row.winsockModel());
        }
        for (Engine engine : Engine.values()) {
            assertTrue(guide.contains("### " + engine.cliName() + " "), "docs/MODELS.md lacks a section for " + engine);
        }
    }

    @Test
    void everyLinkInTheGuidePointsToAFileThatExists() throws IOException {
        Matcher link = Pattern.compile("\\]\\((\\.\\./[^)#]+)\\)").matcher(Files.readString(GUIDE));
        int links = 0;
        while (link.find()) {
            Path target = GUIDE.getParent().resolve(link.group(1)).normalize();
            assertTrue(Files.isRegularFile(target), "docs/MODELS.md links to a missing file: " + link.group(1));
            links++;
        }
        assertTrue(links >= 8, "expected links to every engine's source, found " + links);
    }
}
