package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.cli.Main;
import dev.loomecho.load.LoadGenerator;
import dev.loomecho.load.LoadOptions;
import dev.loomecho.load.LoadResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The load generator over TLS: every echo verified through the handshake, long-lived and churning. */
@Timeout(120)
class TlsLoadTest {

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = Engine.class, names = {"VIRTUAL", "PLATFORM", "SELECTOR"})
    void verifiesEveryEchoOverTlsAndAHandshakePerConnectionWhenChurning(Engine engine) throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).engine(engine).tls(TlsConfig.defaults()).start()) {
            Optional<javax.net.ssl.SSLContext> tls = Optional.of(server.tls().clientContext());
            LoadResult steady = LoadGenerator.run(new LoadOptions("127.0.0.1", server.tlsPort(), 8, 50, null, 1024, 1, 0,
                    Duration.ZERO, false, LoadOptions.Driver.THREADS, Duration.ofSeconds(30), tls));
            assertTrue(steady.ok(), steady.toText());
            assertEquals(8 * 50, steady.messages());
            LoadResult churn = LoadGenerator.run(new LoadOptions("127.0.0.1", server.tlsPort(), 2, 10, null, 64, 1, 0,
                    Duration.ZERO, true, LoadOptions.Driver.THREADS, Duration.ofSeconds(30), tls));
            assertTrue(churn.ok(), churn.toText());
            assertEquals(8 + 2 * 10, server.stats().tls().accepted(), "one handshake per churned message");
            assertEquals(0, server.stats().tls().handshakeFailures());
        }
    }

    @Test
    void aClientThatDoesNotTrustTheServerCountsConnectErrorsAndFails() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).tls(TlsConfig.defaults()).start()) {
            ServerTls stranger = ServerTls.create(TlsConfig.defaults());
            LoadResult result = LoadGenerator.run(new LoadOptions("127.0.0.1", server.tlsPort(), 2, 5, null, 64, 1, 0,
                    Duration.ZERO, false, LoadOptions.Driver.THREADS, Duration.ofSeconds(10),
                    Optional.of(stranger.clientContext())));
            assertFalse(result.ok());
            assertEquals(2, result.connectErrors());
        }
    }

    @Test
    void theSelectorDriverRefusesTls() {
        ServerTls tls = ServerTls.create(TlsConfig.defaults());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LoadOptions("127.0.0.1", 7, 1,
                1, null, 64, 1, 0, Duration.ZERO, false, LoadOptions.Driver.SELECTOR, Duration.ofSeconds(1),
                Optional.of(tls.clientContext())));
        assertTrue(e.getMessage().contains("--tls-ca needs --driver threads"), e.getMessage());
    }

    @Test
    void theLoadCommandTrustsTheCaFileItIsGiven(@TempDir Path dir) throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).tls(TlsConfig.defaults()).start()) {
            Path ca = Files.writeString(dir.resolve("ca.pem"), server.tls().caCertificatePem());
            StringWriter out = new StringWriter();
            var cli = Main.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(new StringWriter(), true));
            assertEquals(0, cli.execute("load", "--port", String.valueOf(server.tlsPort()), "--connections", "2",
                    "--messages", "10", "--tls-ca", ca.toString()), out.toString());
            StringWriter err = new StringWriter();
            cli.setErr(new PrintWriter(err, true));
            assertEquals(2, cli.execute("load", "--port", String.valueOf(server.tlsPort()), "--tls-ca",
                    dir.resolve("none.pem").toString()));
            assertTrue(err.toString().contains("none.pem"), err.toString());
        }
    }
}
