package dev.loomecho.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** docs/MODELS.md shows {@link FileCopy} next to seed 002's IOCP file copy: this keeps it true. */
class FileCopyTest {

    interface Copier {
        void copy(Path source, Path target) throws Exception;
    }

    static Stream<Arguments> copiesAndSizes() {
        Copier virtualThreads = FileCopy::withVirtualThreads;
        Copier completionHandlers = FileCopy::withCompletionHandlers;
        int multiMebibyte = 8 * 1024 * 1024 + 12_345; // several blocks per request, and a short last block
        return Stream.of(virtualThreads, completionHandlers).flatMap(copier -> Stream.of(
                Arguments.of(copier == virtualThreads ? "virtual threads" : "completion handlers", copier, multiMebibyte),
                Arguments.of(copier == virtualThreads ? "virtual threads" : "completion handlers", copier, FileCopy.BLOCK),
                Arguments.of(copier == virtualThreads ? "virtual threads" : "completion handlers", copier, 0)));
    }

    @ParameterizedTest(name = "{0}, {2} bytes")
    @MethodSource("copiesAndSizes")
    void copiesARandomFileByteForByte(String how, Copier copier, int size, @TempDir Path dir) throws Exception {
        byte[] random = new byte[size];
        new Random(size).nextBytes(random);
        Path source = Files.write(dir.resolve("test.dat"), random);
        Path target = dir.resolve("test2.dat");
        Files.write(target, new byte[size + 100]); // an older, longer file: the copy must replace it

        copier.copy(source, target);

        assertEquals(-1, Files.mismatch(source, target), how + ": the copy differs from the source");
    }
}
