package dev.loomecho.cli;

import dev.loomecho.Engine;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code loom-echo models}: the compact form of docs/MODELS.md — each Winsock model, its limit, its engine here. */
@Command(name = "models", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Show which engine replaces which Winsock I/O model (full guide: docs/MODELS.md).")
final class Models implements Callable<Integer> {

    /** One seed model: what it was, what held it back, and what stands for it here. */
    record Row(String winsockModel, String limit, String here) {
    }

    static final List<Row> ROWS = List.of(
            new Row("thread per connection", "one OS thread (1 MiB stack reserved) per client", "platform  (virtual replaces it)"),
            new Row("select", "FD_SETSIZE (64 unless redefined); O(n) per call", "selector  (virtual replaces it)"),
            new Row("WSAAsyncSelect", "needs a window and its message pump", "selector  (virtual replaces it)"),
            new Row("WSAEventSelect", "64 events per wait: a thread per 64 sockets", "selector  (virtual replaces it)"),
            new Row("overlapped I/O + event objects", "64 events per wait; buffers held until done", "future"),
            new Row("overlapped I/O + completion routines", "run only in the issuing thread's alertable wait", "completion"),
            new Row("I/O completion ports", "hand-written worker pool and state machine", "completion (virtual replaces it)"),
            new Row("WSAAccept condition function", "per-accept callback, after the TCP handshake", "--max-connections"));

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String format = "%-38s %-50s %s%n";
        out.printf(format, "WINSOCK MODEL", "ITS LIMIT", "ENGINE HERE");
        for (Row row : ROWS) {
            out.printf(format, row.winsockModel(), row.limit(), row.here());
        }
        out.println();
        for (Engine engine : Engine.values()) {
            out.printf("%-11s %s%n", engine.cliName(), engine.mechanism());
        }
        out.println();
        out.println("Run one: loom-echo serve --engine <name>. Why and when: docs/MODELS.md");
        return 0;
    }
}
