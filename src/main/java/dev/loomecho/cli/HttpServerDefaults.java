package dev.loomecho.cli;

import java.util.Map;
import java.util.Properties;

/**
 * Limits for the JDK's HTTP server, which serves {@code /metrics} and the control API. It has none by
 * default — a client that trickles header bytes holds a connection and a thread for as long as it likes,
 * and any number may — and it reads its limits once per JVM, from system properties, when the first
 * server is created. So they are set here, before anything starts, and only where the user has not set
 * them with {@code -D}. The library sets no system property; the README tells embedders which to set.
 */
final class HttpServerDefaults {

    static final Map<String, String> LIMITS = Map.of(
            "sun.net.httpserver.maxReqTime", "10",          // seconds to receive a whole request, headers and body
            "sun.net.httpserver.idleInterval", "10",        // seconds a kept-alive connection may sit idle
            "sun.net.httpserver.maxReqHeaders", "64",       // header lines per request
            "sun.net.httpserver.maxReqHeaderSize", "16384", // bytes of headers per request
            "jdk.httpserver.maxConnections", "64");         // open connections per server; more wait in the backlog

    private HttpServerDefaults() {
    }

    static void apply() {
        apply(System.getProperties());
    }

    static void apply(Properties properties) {
        LIMITS.forEach(properties::putIfAbsent);
    }
}
