package dev.loomecho.tls;

import java.util.Locale;

/** Whether the server asks a TLS client for a certificate ({@code --tls-client-auth}). */
public enum ClientAuth {
    /** No certificate is asked for. */
    NONE,
    /** One is asked for; a client without one is served, a client with an untrusted one is refused. */
    WANT,
    /** One is required: a client without a trusted certificate fails the handshake (mutual TLS). */
    NEED;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
