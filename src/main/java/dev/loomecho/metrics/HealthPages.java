package dev.loomecho.metrics;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * {@code GET /health} and {@code GET /ready}, for probes (Kubernetes, Docker, a test waiting for the
 * server): answered on the metrics and control ports, so a probe never opens an echo connection and
 * never shows up in {@code accepted}. {@code /health} is 200 while the process runs, start and drain
 * included (a liveness probe must not kill a pod that is starting or finishing its connections);
 * {@code /ready} is 503 "starting" until the server has started, 200 while it accepts, and 503 "draining"
 * from the moment it stops accepting, so a load balancer sends clients only to a server that takes them.
 * The pages start before the echo listener, so a probe meets a 503, not a refused connection, while the
 * server starts. No token: probes cannot carry one, and neither page tells or changes anything else.
 */
public final class HealthPages {

    public static final String HEALTH = "/health";
    public static final String READY = "/ready";

    /** What the pages tell: the server's stage of life. */
    public enum State { STARTING, READY, DRAINING }

    private HealthPages() {
    }

    /** Whether {@code path} is one of these pages. */
    public static boolean serves(String path) {
        return path.equals(HEALTH) || path.equals(READY);
    }

    /** Answers a request for one of these pages; {@code state} tells where the server is. */
    public static void respond(HttpExchange exchange, Supplier<State> state) throws IOException {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            exchange.sendResponseHeaders(405, -1);
            return;
        }
        State now = state.get();
        if (exchange.getRequestURI().getPath().equals(HEALTH)) {
            send(exchange, 200, switch (now) {
                case STARTING -> "{\"status\":\"up\",\"starting\":true}";
                case READY -> "{\"status\":\"up\"}";
                case DRAINING -> "{\"status\":\"up\",\"draining\":true}";
            });
        } else if (now == State.READY) {
            send(exchange, 200, "{\"ready\":true}");
        } else {
            send(exchange, 503, "{\"ready\":false,\"reason\":\"" + (now == State.STARTING ? "starting" : "draining") + "\"}");
        }
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = (json + "\n").getBytes(StandardCharsets.UTF_8);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
