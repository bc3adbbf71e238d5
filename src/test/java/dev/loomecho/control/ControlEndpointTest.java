package dev.loomecho.control;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.loomecho.EchoServer;
import dev.loomecho.Engine;
import dev.loomecho.ServerConfig;
import dev.loomecho.TestClient;
import dev.loomecho.ThreadDumps;
import dev.loomecho.cli.Main;
import dev.loomecho.fault.FaultFlag;
import dev.loomecho.fault.Faults;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The control API over real HTTP on loopback: what a Python, Go or shell test would send. */
@Timeout(60)
class ControlEndpointTest {

    private static EchoServer start(Faults faults) throws IOException {
        return EchoServer.builder().port(0).controlPort(0).faults(faults).drainTimeout(Duration.ZERO).start();
    }

    private static ControlClient control(EchoServer server) {
        return new ControlClient(server.controlAddress().orElseThrow());
    }

    private static JsonObject json(HttpResponse<String> response) {
        assertEquals("application/json; charset=utf-8", response.headers().firstValue("Content-Type").orElseThrow());
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }

    @Test
    void getFaultsShowsTheCurrentFaultsInTheFlagsOwnForms() throws Exception {
        Faults faults = Faults.NONE.withLatency(Duration.ofMillis(200), Duration.ofMillis(20))
                .withSlicing(3, Duration.ofMillis(5)).withCloseAfter(4096).withReadBandwidth(1000).withToxicity(0.5);
        try (EchoServer server = start(faults); ControlClient control = control(server)) {
            HttpResponse<String> response = control.get("/faults");
            assertEquals(200, response.statusCode());
            JsonObject body = json(response);
            assertEquals("200:20", body.get("latency").getAsString());
            assertEquals("3:5", body.get("slice").getAsString());
            assertEquals(4096, body.get("close-after").getAsLong());
            assertEquals(-1, body.get("reset-after").getAsLong());
            assertEquals(1000, body.get("read-bandwidth").getAsLong());
            assertEquals(0.5, body.get("toxicity").getAsDouble());
            assertEquals(false, body.get("tls-stall-handshake").getAsBoolean(), "a switch is a JSON boolean");
            assertEquals(FaultFlag.values().length, body.size(), "every fault, so the answer can be PUT back as it is");
            assertEquals(200, control.put("/faults", response.body()).statusCode());
            assertEquals(faults, server.faults(), "GET's answer, PUT back, changes nothing");
        }
    }

    @Test
    void putReplacesTheFaultsAndTheNextEchoGoesThroughThem() throws Exception {
        try (EchoServer server = start(Faults.NONE.withStallAfter(1_000_000)); ControlClient control = control(server);
             TestClient client = TestClient.connect(server)) {
            assertArrayEquals(new byte[] {1}, client.echo(new byte[] {1}));
            HttpResponse<String> response = control.put("/faults", "{\"latency\": \"300\", \"slice\": 2}");
            assertEquals(200, response.statusCode(), response.body());
            assertEquals(Faults.NONE.withLatency(Duration.ofMillis(300), Duration.ZERO).withSlicing(2, Duration.ZERO),
                    server.faults(), "replaced: stall-after, not sent, is back to off");
            assertEquals("300", json(response).get("latency").getAsString(), "the answer is the new faults");

            long started = System.nanoTime();
            assertArrayEquals(new byte[] {2, 3, 4}, client.echo(new byte[] {2, 3, 4}), "the open connection too");
            assertTrue(System.nanoTime() - started >= 290_000_000L, "the echo was not delayed");
        }
    }

    @Test
    void valuesMayBeJsonNumbersOrTheFlagsText() throws Exception {
        try (EchoServer server = start(Faults.NONE); ControlClient control = control(server)) {
            Faults expected = Faults.NONE.withLatency(Duration.ofMillis(200), Duration.ZERO).withCloseAfter(4096)
                    .withBandwidth(1000).withToxicity(0.25);
            assertEquals(200, control.put("/faults",
                    "{\"latency\": 200, \"close-after\": 4096, \"bandwidth\": \"1000\", \"toxicity\": 0.25}").statusCode());
            assertEquals(expected, server.faults());
            assertEquals(200, control.put("/faults",
                    "{\"latency\": \"200\", \"close-after\": \"4096\", \"bandwidth\": 1000, \"toxicity\": \"0.25\"}").statusCode());
            assertEquals(expected, server.faults());
        }
    }

    @Test
    void wholeNumbersMayBeWrittenAsJsonFloatsAsPythonsJsonDumpsDoes() throws Exception {
        try (EchoServer server = start(Faults.NONE); ControlClient control = control(server)) {
            HttpResponse<String> response = control.put("/faults",
                    "{\"latency\": 1e3, \"close-after\": 4096.0, \"bandwidth\": 1E3, \"stall-after\": -1.0, "
                            + "\"toxicity\": 5e-1, \"read-bandwidth\": 0.0}");
            assertEquals(200, response.statusCode(), response.body());
            assertEquals(Faults.NONE.withLatency(Duration.ofSeconds(1), Duration.ZERO).withCloseAfter(4096)
                    .withBandwidth(1000).withToxicity(0.5), server.faults());
        }
    }

    @Test
    void deleteClearsTheFaults() throws Exception {
        try (EchoServer server = start(Faults.NONE.withCloseAfter(1)); ControlClient control = control(server)) {
            HttpResponse<String> response = control.delete("/faults");
            assertEquals(200, response.statusCode());
            assertEquals(Faults.NONE, server.faults());
            assertEquals("0", json(response).get("latency").getAsString());
            try (TestClient client = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {1, 2, 3}, client.echo(new byte[] {1, 2, 3}), "no close-after any more");
            }
        }
    }

    @Test
    void getStatsIsTheStatsSnapshot() throws Exception {
        try (EchoServer server = start(Faults.NONE); ControlClient control = control(server)) {
            try (TestClient client = TestClient.connect(server)) {
                client.echo(new byte[5]);
                JsonObject stats = json(control.get("/stats"));
                assertEquals(1, stats.get("accepted").getAsLong());
                assertEquals(1, stats.get("active").getAsLong());
                assertEquals(5, stats.get("bytesIn").getAsLong());
                assertEquals(5, stats.get("bytesOut").getAsLong());
                assertEquals(256, stats.get("bufferBytesInUse").getAsLong(), "the open connection's 256 B buffer");
                assertEquals(0, stats.getAsJsonObject("tls").get("accepted").getAsLong(), "no TLS listener");
                assertEquals(13, stats.size(), "every field of Stats");
            }
        }
    }

    @Test
    void aBadBodyIsA400WithAOneLineReasonAndChangesNothing() throws Exception {
        Faults before = Faults.NONE.withLatency(Duration.ofMillis(5), Duration.ZERO);
        try (EchoServer server = start(before); ControlClient control = control(server)) {
            List<List<String>> cases = List.of(
                    List.of("{\"latency\": 1", "malformed JSON at line 1 column"),
                    List.of("{latency: 1}", "malformed JSON"),
                    List.of("{\"latency\": 1} {}", "malformed JSON"),
                    List.of("[1, 2]", "must be a JSON object"),
                    List.of("", "must be a JSON object"),
                    List.of("{\"latncy\": 1}", "unknown key \"latncy\"; the keys are latency, bandwidth"),
                    List.of("{\"latency\": \"fast\"}", "latency takes N or N:M"),
                    List.of("{\"latency\": 1.5}", "latency takes N or N:M"),
                    List.of("{\"latency\": \"10:20\"}", "jitter must not exceed the latency"),
                    List.of("{\"close-after\": -2}", "close-after takes a whole number"),
                    List.of("{\"close-after\": true}", "close-after takes a whole number of bytes (-1 = off), was 'true'"),
                    List.of("{\"slice\": null}", "slice takes a string, a number or true/false, was null"),
                    List.of("{\"read-bandwidth\": \"1k\"}", "read-bandwidth takes a whole number"),
                    List.of("{\"toxicity\": 1.5}", "toxicity takes a share from 0 to 1"),
                    List.of("{\"latency\": \"9300000000000000\"}", "latency takes at most 3600000 ms (1 hour)"),
                    List.of("{\"latency\": 9300000000000000}", "latency takes at most 3600000 ms (1 hour)"),
                    List.of("{\"slice\": \"1:3600001\"}", "slice takes at most 3600000 ms (1 hour)"),
                    List.of("{\"latency\": \"+5\"}", "latency takes N or N:M"),
                    List.of("{\"toxicity\": \"0x1p-1\"}", "toxicity takes a share from 0 to 1"),
                    List.of("{\"toxicity\": \"0.5d\"}", "toxicity takes a share from 0 to 1"),
                    List.of("{\"close-after\": 4096.5}", "close-after takes a whole number"),
                    List.of("{\"close-after\": 1e30}", "close-after takes a whole number"),
                    List.of("{\"latency\": \"100\", \"latency\": \"0\"}", "duplicate key \"latency\""),
                    List.of("{\"latency\": 5, \"slice\": 2, \"latency\": 5}", "duplicate key \"latency\""));
            for (List<String> bad : cases) {
                HttpResponse<String> response = control.put("/faults", bad.get(0));
                assertEquals(400, response.statusCode(), bad.get(0));
                assertTrue(response.body().contains(bad.get(1)), bad.get(0) + " → " + response.body());
                assertEquals(1, response.body().lines().count(), "one line: " + response.body());
                assertEquals(before, server.faults(), "unchanged after " + bad.get(0));
            }
            try (TestClient client = TestClient.connect(server)) {
                assertArrayEquals(new byte[] {7}, client.echo(new byte[] {7}), "and still echoing");
            }
        }
    }

    @Test
    void faultsTheEngineCannotInjectAreA400() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).controlPort(0).engine(Engine.SELECTOR).start();
             ControlClient control = control(server)) {
            HttpResponse<String> response = control.put("/faults", "{\"latency\": 100}");
            assertEquals(400, response.statusCode());
            assertTrue(response.body().contains("not selector"), response.body());
            assertEquals(Faults.NONE, server.faults());
        }
    }

    @Test
    void onlyTheExactPathsAndTheirMethodsAnswer() throws Exception {
        try (EchoServer server = start(Faults.NONE); ControlClient control = control(server)) {
            for (String path : List.of("/faultsX", "/faults/latency", "/", "/metrics", "/stats/")) {
                assertEquals(404, control.get(path).statusCode(), path);
            }
            HttpResponse<String> post = control.send("POST", "/faults", "{}");
            assertEquals(405, post.statusCode());
            assertEquals("GET, PUT, DELETE", post.headers().firstValue("Allow").orElseThrow());
            assertEquals(405, control.put("/stats", "{}").statusCode());
            assertEquals(Faults.NONE, server.faults());
            // An opaque target has no path: the JDK's server drops the connection before any handler runs
            // (its context lookup throws), which must not stop it serving the next request.
            Raw opaque = raw(server.controlAddress().orElseThrow(), "GET mailto:x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertTrue(List.of(-1, 400, 404).contains(opaque.status()), opaque.toString());
            assertEquals(200, control.get("/faults").statusCode());
        }
    }

    @Test
    void aBodyOverSixtyFourKibibytesIsA413() throws Exception {
        try (EchoServer server = start(Faults.NONE); ControlClient control = control(server)) {
            String padded = "{\"latency\": \"" + " ".repeat(ControlEndpoint.MAX_BODY_BYTES) + "100\"}";
            assertEquals(413, control.put("/faults", padded).statusCode());
            assertEquals(Faults.NONE, server.faults());
            assertEquals(200, control.get("/faults").statusCode(), "and it goes on serving");
        }
    }

    @Test
    void withATokenEveryRequestNeedsTheBearerHeader() throws Exception {
        try (EchoServer server = EchoServer.builder().port(0).controlPort(0).controlToken("s3cret-Token").start();
             ControlClient anonymous = control(server);
             ControlClient wrong = new ControlClient(server.controlAddress().orElseThrow(), "s3cret-Tokem");
             ControlClient longer = new ControlClient(server.controlAddress().orElseThrow(), "s3cret-Token2");
             ControlClient right = new ControlClient(server.controlAddress().orElseThrow(), "s3cret-Token")) {
            for (ControlClient refused : List.of(anonymous, wrong, longer)) {
                HttpResponse<String> put = refused.put("/faults", "{\"close-after\": 0}");
                assertEquals(401, put.statusCode());
                assertTrue(put.headers().firstValue("WWW-Authenticate").orElseThrow().startsWith("Bearer"));
                assertFalse(put.body().contains("s3cret"), "the answer must not reveal the token");
                assertEquals(401, refused.get("/stats").statusCode());
                assertEquals(401, refused.get("/nothing").statusCode(), "no probing for paths either");
            }
            assertEquals(Faults.NONE, server.faults());
            assertEquals(200, right.put("/faults", "{\"close-after\": 0}").statusCode());
            assertEquals(Faults.NONE.withCloseAfter(0), server.faults());
            assertEquals(200, right.get("/stats").statusCode());
        }
    }

    @Test
    void offLoopbackTheControlPortRefusesToStartWithoutAToken() throws Exception {
        InetAddress any = InetAddress.getByName("0.0.0.0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EchoServer.builder().bindAddress(any).port(0).controlPort(0).build());
        assertTrue(e.getMessage().contains("needs --control-token or LOOM_ECHO_CONTROL_TOKEN"), e.getMessage());
        // With a token it is valid (not started here: tests stay on loopback).
        ServerConfig guarded = EchoServer.builder().bindAddress(any).port(0).controlPort(0).controlToken("t0ken").build();
        assertFalse(guarded.toString().contains("t0ken"), "the config's text hides the token: " + guarded);
        // Without a control port the bind address needs nothing.
        EchoServer.builder().bindAddress(any).port(0).build();

        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        assertEquals(2, cli.execute("serve", "--bind", "0.0.0.0", "--port", "0", "--control-port", "0"));
        assertTrue(err.toString().contains("needs --control-token"), err.toString());
    }

    @Test
    void withoutATokenOnlyRequestsAddressedToALoopbackNameAreServed() throws Exception {
        try (EchoServer server = start(Faults.NONE)) {
            InetSocketAddress control = server.controlAddress().orElseThrow();
            int port = control.getPort();
            // What a browser sends once an attacker's domain re-resolves to 127.0.0.1 (DNS rebinding).
            for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1.evil.example",
                    "localhost.evil.example", "2130706433", "127.1", "[::2]:" + port, "127.0.0.256")) {
                Raw put = raw(control, "PUT", "/faults", host, null, "{\"close-after\": 0}");
                assertEquals(403, put.status(), host);
                assertTrue(put.body().contains("DNS rebinding"), put.body());
                assertEquals(403, raw(control, "GET", "/stats", host, null, null).status(), host);
            }
            assertEquals(Faults.NONE, server.faults());
            for (String host : List.of("localhost", "LocalHost:" + port, "127.0.0.1:" + port, "127.1.2.3",
                    "[::1]:" + port, "[0:0:0:0:0:0:0:1]")) {
                assertEquals(200, raw(control, "GET", "/faults", host, null, null).status(), host);
            }
        }
        // With a token, the token is the guard, and any Host will do (a Service name, a proxy's).
        try (EchoServer server = EchoServer.builder().port(0).controlPort(0).controlToken("t0ken").start()) {
            InetSocketAddress control = server.controlAddress().orElseThrow();
            assertEquals(200, raw(control, "GET", "/faults", "loom-echo.test", "t0ken", null).status());
        }
    }

    @Test
    void aContentLengthIsReadByItsValueNotItsDigits() throws Exception {
        try (EchoServer server = start(Faults.NONE)) {
            InetSocketAddress control = server.controlAddress().orElseThrow();
            String body = "{\"slice\": 2}";
            String request = "PUT /faults HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    + "Content-Length: 0000000000000" + body.length() + "\r\n\r\n" + body;
            assertEquals(200, raw(control, request).status());
            assertEquals(Faults.NONE.withSlicing(2, Duration.ZERO), server.faults());
        }
    }

    @Test
    void reasonsAreOneShortLineWhateverTheRequestCarried() throws Exception {
        try (EchoServer server = start(Faults.NONE); ControlClient control = control(server)) {
            for (String body : List.of("{\"latency\": \"1\\r\\n\\u2028" + "9".repeat(60_000) + "\"}",
                    "{\"late\\rncy\": 1}", "{\"" + "k".repeat(10_000) + "\": 1}")) {
                HttpResponse<String> response = control.put("/faults", body);
                assertEquals(400, response.statusCode());
                String reason = response.body();
                assertTrue(reason.length() <= ControlEndpoint.MAX_REASON_CHARS + 10, reason.length() + " characters");
                assertEquals(1, reason.lines().count(), reason);
                assertFalse(reason.contains("\r") || reason.contains("\u2028"), reason);
            }
            assertTrue(control.put("/faults", "{\"late\\rncy\": 1}").body().startsWith("unknown key \"late\\u000dncy\""));
        }
    }

    @Test
    void closeReleasesTheControlPortAndItsThreads() throws Exception {
        long dispatchers = ThreadDumps.countThreadsNamed("HTTP-Dispatcher");
        EchoServer server = start(Faults.NONE);
        InetSocketAddress control = server.controlAddress().orElseThrow();
        try (Socket unfinished = new Socket(control.getAddress(), control.getPort())) {
            // A request whose headers never end keeps a handler thread reading until the close.
            unfinished.getOutputStream().write("GET /faults HTTP/1.1\r\nHost: localhost\r\n".getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(5)).until(() -> !ThreadDumps.threadsNamed("loom-echo-control-").isEmpty());
            assertEquals(dispatchers + 1, ThreadDumps.countThreadsNamed("HTTP-Dispatcher"));

            server.close();

            assertEquals(List.of(), ThreadDumps.threadsNamed("loom-echo-control-"), "handler threads left behind");
            assertEquals(dispatchers, ThreadDumps.countThreadsNamed("HTTP-Dispatcher"), "the JDK server's thread is left");
            unfinished.setSoTimeout(5_000);
            try {
                assertEquals(-1, unfinished.getInputStream().read(), "the unfinished request's connection is closed");
            } catch (SocketException reset) {
                // closed with the request unread: a reset says the same
            }
        }
        assertThrows(ConnectException.class, () -> new Socket(control.getAddress(), control.getPort()).close(),
                "the control port is still bound");
    }

    /** A raw HTTP/1.1 request, for what {@code HttpClient} will not send: a Host of our choosing, odd lengths. */
    private static Raw raw(InetSocketAddress address, String method, String path, String host, String token, String body)
            throws IOException {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        return raw(address, method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + "Content-Length: " + content.length + "\r\n\r\n" + (body == null ? "" : body));
    }

    private static Raw raw(InetSocketAddress address, String request) throws IOException {
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (response.isEmpty()) {
                return new Raw(-1, "(closed without an answer)");
            }
            int status = Integer.parseInt(response.substring(response.indexOf(' ') + 1, response.indexOf(' ') + 4));
            return new Raw(status, response.substring(response.indexOf("\r\n\r\n") + 4));
        }
    }

    private record Raw(int status, String body) {
    }

    @Test
    void aTokenWithSpacesIsRefusedWithoutEchoingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EchoServer.builder().controlPort(0).controlToken("my secret").build());
        assertFalse(e.getMessage().contains("my secret"), e.getMessage());
    }
}
