package dev.loomecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random echoes on every engine: payloads from 0 B to 4 MiB, written in random split points,
 * half-closed at a random moment (or not at all), must come back byte for byte. A failure names its
 * seed; rerun one with {@code -Dloomecho.fuzz.seed=SEED}.
 */
@ParameterizedClass(name = "engine {0}")
@EnumSource(Engine.class)
@Timeout(120)
class EchoFuzzTest {

    private static final int CASES = 16;
    private static final int MAX_PAYLOAD = 4 << 20;

    @Parameter
    Engine engine;

    static LongStream seeds() {
        String fixed = System.getProperty("loomecho.fuzz.seed");
        if (fixed != null) {
            return LongStream.of(Long.parseLong(fixed));
        }
        SplittableRandom seeds = new SplittableRandom(20_261_125L);
        return LongStream.generate(seeds::nextLong).limit(CASES);
    }

    enum HalfClose { AFTER_LAST_WRITE, AFTER_HALF_THE_ECHO, NEVER }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void echoesRandomPayloadsSplitAndHalfClosedAtRandomExactly(long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] payload = new byte[payloadSize(random)];
        random.nextBytes(payload);
        HalfClose halfClose = HalfClose.values()[random.nextInt(HalfClose.values().length)];
        int maxSplit = 1 + random.nextInt(random.nextBoolean() ? 64 : 256 * 1024);

        try (EchoServer server = EchoServer.builder().port(0).engine(engine).drainTimeout(Duration.ZERO).start();
             TestClient client = TestClient.connect(server)) {
            CountDownLatch halfEchoed = new CountDownLatch(1);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    for (int offset = 0; offset < payload.length; ) {
                        int length = Math.min(payload.length - offset, 1 + random.nextInt(maxSplit));
                        client.send(java.util.Arrays.copyOfRange(payload, offset, offset + length));
                        offset += length;
                    }
                    if (halfClose == HalfClose.AFTER_HALF_THE_ECHO) {
                        halfEchoed.await();
                    }
                    if (halfClose != HalfClose.NEVER) {
                        client.shutdownOutput();
                    }
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());

            ByteArrayOutputStream echoed = new ByteArrayOutputStream(payload.length);
            echoed.writeBytes(client.readExactly(payload.length / 2));
            halfEchoed.countDown();
            echoed.writeBytes(halfClose == HalfClose.NEVER
                    ? client.readExactly(payload.length - payload.length / 2)
                    : client.readToEnd()); // after a half-close the server must close after the last byte
            sent.join();
            assertArrayEquals(payload, echoed.toByteArray(),
                    "seed " + seed + ": " + payload.length + " B, splits <= " + maxSplit + ", half-close " + halfClose);
        }
    }

    /** A quarter each: tiny (incl. empty), small, medium, large. */
    private static int payloadSize(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt(65);
            case 1 -> random.nextInt(64, 64 * 1024);
            case 2 -> random.nextInt(64 * 1024, 1 << 20);
            default -> random.nextInt(1 << 20, MAX_PAYLOAD + 1);
        };
    }
}
