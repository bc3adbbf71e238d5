package dev.loomecho.metrics;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /health} and {@code GET /ready}, for probes (Kubernetes, Docker, a test waiting for the
 * server): answered on the metrics and control ports, so a probe never opens an echo connection and
 * never shows up in {@code accepted}. {@code /health} is 200 while the process serves, draining
 * included (a liveness probe must not kill a pod that is finishing its connections); {@code /ready} is
 * 200 while the server accepts and 503 from the moment it stops accepting, so a load balancer sends no
 * new client to a server that is draining. No token: probes cannot carry one, and neither page tells
 * or changes anything else.
 */
public final class HealthPages {

    public static final String HEALTH = "/health";
    public static final String READY = "/ready";

    private HealthPages() {
    }

    /** Whether {@code path} is one of these pages. */
    public static boolean serves(String path) {
        return path.equals(HEALTH) || path.equals(READY);
    }

    /** Answers a request for one of these pages; {@code accepting} tells whether the server still accepts. */
    public static void respond(HttpExchange exchange, BooleanSupplier accepting) throws IOException {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            exchange.sendResponseHeaders(405, -1);
            return;
        }
        boolean ready = accepting.getAsBoolean();
        if (exchange.getRequestURI().getPath().equals(HEALTH)) {
            send(exchange, 200, ready ? "{\"status\":\"up\"}" : "{\"status\":\"up\",\"draining\":true}");
        } else {
            send(exchange, ready ? 200 : 503, ready ? "{\"ready\":true}" : "{\"ready\":false,\"reason\":\"draining\"}");
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
