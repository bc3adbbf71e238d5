package dev.loomecho.control;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.loomecho.EchoServer;
import dev.loomecho.engine.Listeners;
import dev.loomecho.engine.RateLimitedLog;
import dev.loomecho.fault.Faults;
import dev.loomecho.metrics.HealthPages;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control API, so tests in any language can change faults on a running server, as Toxiproxy's API
 * lets them: {@code GET /faults}, {@code PUT /faults} (replace), {@code DELETE /faults} (none),
 * {@code GET /stats}; {@code GET /tls/ca.pem}, the generated CA a TLS client must trust; and the probes'
 * {@code /health} and {@code /ready} ({@link HealthPages}: no token, they change nothing). Served like
 * {@code /metrics}, by the JDK's {@code com.sun.net.httpserver} on virtual threads. With a token, every
 * request must carry {@code Authorization: Bearer TOKEN}; without
 * one (allowed on loopback only), every request must be addressed to a loopback name ({@code Host:
 * localhost}, {@code 127.0.0.1}, {@code [::1]}, with any port), so a web page whose domain an attacker
 * re-resolves to 127.0.0.1 (DNS rebinding) cannot change the faults from a browser.
 *
 * <p>The JDK's server has no request-time or connection limits of its own: it reads them once per JVM
 * from {@code sun.net.httpserver.*} system properties, which the CLI sets ({@code cli.HttpServerDefaults});
 * an embedder that turns the control port on sets them itself (see the README, "Embedding").
 *
 * <p>Loaded only when a control port is configured: JSON needs Gson, an optional dependency that the
 * runnable jar contains and an embedder may not have. This class touches Gson only through
 * {@link FaultsJson}, so a missing Gson is reported by {@link #start} instead of a {@code NoClassDefFoundError}.
 */
public final class ControlEndpoint implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ControlEndpoint.class);
    /** Bodies are a handful of keys; anything near this size is not a faults object. */
    static final int MAX_BODY_BYTES = 64 * 1024;
    /** Reasons may quote what the client sent (a value, a Host), which must not make them long. */
    static final int MAX_REASON_CHARS = 300;
    private static final Pattern HOST = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[^:\\[\\]]+)(:\\d{1,5})?");
    private static final Pattern IPV4_LOOPBACK = Pattern.compile("127\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    private final HttpServer http;
    private final EchoServer server;
    private final Supplier<HealthPages.State> health;
    /** SHA-256 of the token, compared with the presented one's in constant time; the token itself is not kept. */
    private final byte[] tokenHash;
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("loom-echo-control-", 1).factory());
    /** Refused requests, logged at most once per 10 s: a scanner or a guessing client must not flood the log. */
    private final RateLimitedLog refusals = new RateLimitedLog(log, Duration.ofSeconds(10));
    private final ReentrantLock refusalsLock = new ReentrantLock(); // handlers run on many threads; the log is not thread-safe

    private ControlEndpoint(HttpServer http, EchoServer server, Supplier<HealthPages.State> health, byte[] tokenHash) {
        this.http = http;
        this.server = server;
        this.health = health;
        this.tokenHash = tokenHash;
    }

    /**
     * Binds {@code address} (a busy port names it) and serves {@code server}'s faults and stats, and
     * {@code health} on the probes' pages. Started while {@code server} itself starts: nothing here may
     * reach it before a request comes.
     */
    public static ControlEndpoint start(InetSocketAddress address, Optional<String> token, EchoServer server,
            Supplier<HealthPages.State> health) throws IOException {
        requireGson();
        HttpServer http = Listeners.bindHttp(address, "the control API");
        ControlEndpoint endpoint = new ControlEndpoint(http, server, health, token.map(ControlEndpoint::sha256).orElse(null));
        http.setExecutor(endpoint.threads);
        http.createContext("/", endpoint::handle); // every path, so that routing is exact: /faultsX is a 404
        http.start();
        return endpoint;
    }

    private static void requireGson() {
        try {
            Class.forName("com.google.gson.Gson", false, ControlEndpoint.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the control port needs Gson (com.google.code.gson:gson 2.11 or later) on "
                    + "the classpath: the runnable jar has it; an embedding project adds the dependency", e);
        }
    }

    public InetSocketAddress address() {
        return http.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (HealthPages.serves(exchange.getRequestURI().getPath())) {
                HealthPages.respond(exchange, health); // for probes, which carry no token
                return;
            }
            if (tokenHash == null && !addressedToLoopback(exchange)) {
                refused(exchange, "Host is not a loopback name");
                String host = String.join(", ", exchange.getRequestHeaders().get("Host"));
                text(exchange, 403, "Host " + host + " is not localhost or a loopback address: without a token the "
                        + "control API answers only those (a guard against DNS rebinding)");
                return;
            }
            if (!authorized(exchange)) {
                refused(exchange, "missing or wrong bearer token"); // never the token presented
                exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"loom-echo\"");
                text(exchange, 401, "missing or wrong token: send Authorization: Bearer TOKEN");
                return;
            }
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/faults" -> faults(exchange);
                case "/stats" -> stats(exchange);
                case "/tls/ca.pem" -> caCertificate(exchange);
                default -> text(exchange, 404, "no " + path + " here; try /faults, /stats, /tls/ca.pem, /health or /ready");
            }
        }
    }

    private void faults(HttpExchange exchange) throws IOException {
        switch (exchange.getRequestMethod()) {
            case "GET" -> json(exchange, 200, FaultsJson.render(server.faults()));
            case "PUT" -> {
                String body = body(exchange);
                if (body == null) {
                    text(exchange, 413, "the body is larger than " + MAX_BODY_BYTES + " bytes");
                    return;
                }
                change(exchange, () -> FaultsJson.parse(body));
            }
            case "DELETE" -> change(exchange, () -> Faults.NONE);
            default -> notAllowed(exchange, "GET, PUT, DELETE");
        }
    }

    /** Parses, then applies: a bad body or a fault the engine cannot inject is a 400, and nothing changes. */
    private void change(HttpExchange exchange, FaultsSource source) throws IOException {
        Faults faults;
        try {
            faults = source.get();
            server.faults(faults);
        } catch (IllegalArgumentException e) {
            text(exchange, 400, e.getMessage());
            return;
        }
        String rendered = FaultsJson.render(faults);
        log.info("faults set by {} from {}: {}", exchange.getRequestMethod(), exchange.getRemoteAddress(), rendered);
        json(exchange, 200, rendered);
    }

    @FunctionalInterface
    private interface FaultsSource {
        Faults get();
    }

    private void stats(HttpExchange exchange) throws IOException {
        if (exchange.getRequestMethod().equals("GET")) {
            json(exchange, 200, FaultsJson.render(server.stats()));
        } else {
            notAllowed(exchange, "GET");
        }
    }

    /** The generated CA as PEM, so a client in any language can fetch the trust it needs: curl -o ca.pem URL. */
    private void caCertificate(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestMethod().equals("GET")) {
            notAllowed(exchange, "GET");
        } else if (!server.hasTls()) {
            text(exchange, 404, "this server has no TLS listener (start it with --tls-port)");
        } else if (!server.tls().generatedCertificate()) {
            text(exchange, 404, "the server presents your own certificate, not one from a generated CA: trust its issuer");
        } else {
            send(exchange, 200, "application/x-pem-file", server.tls().caCertificatePem().stripTrailing());
        }
    }

    /**
     * Whether every {@code Host} header names this machine by a loopback literal or {@code localhost}, with
     * any port. A request without one (HTTP/1.0) passes: browsers, the only way to rebind DNS, always send it.
     */
    static boolean addressedToLoopback(HttpExchange exchange) {
        List<String> hosts = exchange.getRequestHeaders().get("Host");
        return hosts == null || hosts.stream().allMatch(ControlEndpoint::isLoopbackHost);
    }

    /** {@code localhost}, {@code 127.x.y.z} or a bracketed IPv6 loopback literal, then an optional port; never a lookup. */
    static boolean isLoopbackHost(String host) {
        Matcher parts = HOST.matcher(host.trim());
        if (!parts.matches()) {
            return false;
        }
        String name = parts.group(1);
        if (name.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (name.startsWith("[")) {
            try {
                return InetAddress.getByName(name).isLoopbackAddress(); // a bracketed literal is parsed, not looked up
            } catch (UnknownHostException malformed) {
                return false;
            }
        }
        Matcher ipv4 = IPV4_LOOPBACK.matcher(name);
        return ipv4.matches() && Integer.parseInt(ipv4.group(1)) < 256 && Integer.parseInt(ipv4.group(2)) < 256
                && Integer.parseInt(ipv4.group(3)) < 256;
    }

    private void refused(HttpExchange exchange, String why) {
        refusalsLock.lock();
        try {
            refusals.warn("control API ({} refusals not logged since the last report): refused {} {} from {}: {}",
                    exchange.getRequestMethod(), oneLine(exchange.getRequestURI().getRawPath()),
                    exchange.getRemoteAddress(), why);
        } finally {
            refusalsLock.unlock();
        }
    }

    private boolean authorized(HttpExchange exchange) {
        if (tokenHash == null) {
            return true;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        String presented = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
        // Equal-length digests compared in constant time: the answer's timing tells nothing about the token.
        return MessageDigest.isEqual(sha256(presented), tokenHash);
    }

    /** The request body, or null if it is larger than {@link #MAX_BODY_BYTES} (read no further than that). */
    private static String body(HttpExchange exchange) throws IOException {
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null && Long.parseLong(length.trim()) > MAX_BODY_BYTES) {
            return null; // do not even start reading (the JDK's server has already checked it is a number)
        }
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
            return bytes.length > MAX_BODY_BYTES ? null : new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private static void notAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        text(exchange, 405, exchange.getRequestMethod() + " is not allowed here; use " + allowed);
    }

    private static void json(HttpExchange exchange, int status, String json) throws IOException {
        send(exchange, status, "application/json; charset=utf-8", json);
    }

    /** Errors are one short line of plain text, so {@code curl} shows the reason as it is. */
    private static void text(HttpExchange exchange, int status, String reason) throws IOException {
        send(exchange, status, "text/plain; charset=utf-8", oneLine(reason));
    }

    /**
     * {@code text} as one line of at most {@link #MAX_REASON_CHARS} characters: control characters and line
     * separators escaped ({@code \\u000d}), the rest cut off after "...". Reasons quote client input.
     */
    static String oneLine(String text) {
        StringBuilder line = new StringBuilder();
        int i = 0;
        for (; i < text.length() && line.length() < MAX_REASON_CHARS; i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                line.append(String.format("\\u%04x", (int) c));
            } else if (Character.isHighSurrogate(c) && line.length() + 1 >= MAX_REASON_CHARS) {
                break; // half a character would be encoded as '?'
            } else {
                line.append(c);
            }
        }
        return i < text.length() ? line.append("...").toString() : line.toString();
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
        boolean head = exchange.getRequestMethod().equals("HEAD"); // a 405 to HEAD carries no body
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("every Java runtime has SHA-256", impossible);
        }
    }

    @Override
    public void close() {
        http.stop(0);
        threads.close();
    }
}
