package dev.loomecho.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.loomecho.Stats;
import dev.loomecho.engine.Listeners;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} in the Prometheus text exposition format (version 0.0.4), served by the JDK's
 * own {@code com.sun.net.httpserver} on virtual threads: no web framework for one read-only page.
 * The probes' {@code /health} and {@code /ready} ({@link HealthPages}) are served here too.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private static final String PATH = "/metrics";

    private final HttpServer http;
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("loom-echo-metrics-", 1).factory());

    private MetricsEndpoint(HttpServer http) {
        this.http = http;
    }

    /**
     * Binds {@code address} (a busy port names it) and serves the stats {@code engine} labels; with
     * {@code tls}, each connection metric per listener (see {@code PrometheusText}); {@code health}
     * answers {@code /health} and {@code /ready}.
     */
    public static MetricsEndpoint start(InetSocketAddress address, String engine, boolean tls, Supplier<Stats> stats,
            Supplier<HealthPages.State> health) throws IOException {
        HttpServer http = Listeners.bindHttp(address, "metrics");
        MetricsEndpoint endpoint = new MetricsEndpoint(http);
        http.setExecutor(endpoint.threads);
        // A context matches every path it prefixes, so one context for all, and each path matched exactly.
        http.createContext("/", exchange -> {
            if (HealthPages.serves(exchange.getRequestURI().getPath())) {
                try (exchange) {
                    HealthPages.respond(exchange, health);
                }
                return;
            }
            endpoint.respond(exchange, () -> PrometheusText.render(engine, stats.get(), RuntimeGauges.read(), tls));
        });
        http.start();
        return endpoint;
    }

    public InetSocketAddress address() {
        return http.getAddress();
    }

    private void respond(HttpExchange exchange, Supplier<String> page) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals(PATH)) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = page.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, exchange.getRequestMethod().equals("HEAD") ? -1 : bytes.length);
            if (!exchange.getRequestMethod().equals("HEAD")) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            http.stop(0);
        } finally {
            threads.close(); // waits for the handler threads, whatever stop() did
        }
    }
}
