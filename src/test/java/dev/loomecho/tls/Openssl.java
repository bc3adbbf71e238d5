package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the {@code openssl} command (Debian's; {@code .ci/run} installs it) and returns its exit code and output. */
final class Openssl {

    record Result(int exitCode, String output) {
    }

    private Openssl() {
    }

    static Result run(Path directory, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(arguments));
        Process process;
        try {
            process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        } catch (IOException missing) {
            return fail("openssl is needed by the TLS tests (.ci/run installs it; on Debian: apt-get install -y openssl): "
                    + missing.getMessage());
        }
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("openssl " + String.join(" ", arguments) + " did not finish in 60 s");
        }
        return new Result(process.exitValue(), output);
    }

    /** Runs and requires success. */
    static String ok(Path directory, String... arguments) throws IOException, InterruptedException {
        Result result = run(directory, arguments);
        if (result.exitCode() != 0) {
            fail("openssl " + String.join(" ", arguments) + " exited " + result.exitCode() + ":\n" + result.output());
        }
        return result.output();
    }
}
