package dev.loomecho.readme;

// The README's JUnit extension example, verbatim (README.md quotes this region): if it breaks, so does the README.
// docs:begin extension-example
import static org.junit.jupiter.api.Assertions.*;

import dev.loomecho.fault.Faults;
import dev.loomecho.junit.EchoServerExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MyClientTest {
    @RegisterExtension
    static EchoServerExtension echo = EchoServerExtension.builder()
            .faults(Faults.NONE.withLatency(Duration.ofMillis(20), Duration.ofMillis(5))
                               .withSlicing(4, Duration.ofMillis(2)))
            .build();

    @Test
    void survivesALaggyPeerThatSplitsEveryReply() throws Exception {
        MyClient client = new MyClient("127.0.0.1", echo.port());
        assertEquals("hello, loom", client.roundTrip("hello, loom")); // 4 bytes at a time, 20±5 ms late
        assertEquals(1, echo.stats().accepted());
    }
}
// docs:end extension-example
