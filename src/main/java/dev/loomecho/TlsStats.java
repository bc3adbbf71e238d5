package dev.loomecho;

/**
 * The TLS listener's share of {@link Stats}: the same counters, for its connections only (the totals in
 * {@code Stats} include them), and the handshakes that failed. All zero without a TLS listener.
 *
 * @param accepted          TLS connections admitted (a handshake that fails still counts)
 * @param active            TLS connections open right now
 * @param rejected          TLS connections closed at once because {@code maxConnections} were open
 * @param bytesIn           decrypted bytes read from TLS clients
 * @param bytesOut          bytes echoed to TLS clients, before encryption
 * @param idleClosed        TLS connections closed by the idle timeout (a stalled handshake included)
 * @param errors            TLS connections that ended with an unexpected error
 * @param handshakeFailures handshakes that failed: the client refused the certificate or the server
 *                          refused the client (protocol, ALPN, client certificate), or the client left mid-way
 */
public record TlsStats(long accepted, long active, long rejected, long bytesIn, long bytesOut, long idleClosed,
                       long errors, long handshakeFailures) {

    public static final TlsStats NONE = new TlsStats(0, 0, 0, 0, 0, 0, 0, 0);
}
