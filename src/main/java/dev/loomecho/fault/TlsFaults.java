package dev.loomecho.fault;

import dev.loomecho.tls.ServedCertificate;
import java.time.Duration;
import java.util.Objects;

/**
 * The faults only a TLS connection has, set like the others ({@code --tls-...} flags, the control API's
 * {@code tls-...} keys) and applied to toxic connections of the TLS listener; a plain connection ignores
 * them. The certificate faults are chosen when a connection is accepted, the others on its handshake
 * and its echoes.
 *
 * @param handshakeDelay wait this long after accepting before answering the ClientHello, at most an hour
 * @param stallHandshake accept the connection but never answer the ClientHello (it stays open until the
 *                       client gives up or the idle timeout closes it)
 * @param truncateAfter  after this many bytes echoed, close TCP without TLS's close_notify: the truncation
 *                       a client must detect; -1 = off
 * @param certExpired    present a generated certificate that expired a day ago
 * @param certWrongHost  present a generated certificate for {@code wrong-host.invalid} only
 */
public record TlsFaults(Duration handshakeDelay, boolean stallHandshake, long truncateAfter, boolean certExpired,
                        boolean certWrongHost) {

    public static final TlsFaults NONE = new TlsFaults(Duration.ZERO, false, -1, false, false);

    public TlsFaults {
        Objects.requireNonNull(handshakeDelay, "handshakeDelay");
        require(!handshakeDelay.isNegative(), "tls-handshake-delay must not be negative");
        require(handshakeDelay.compareTo(Faults.MAX_DELAY) <= 0, "tls-handshake-delay must be at most 1 hour, was " + handshakeDelay);
        require(truncateAfter >= -1, "tls-truncate-after must be bytes >= 0 (-1 = off), was " + truncateAfter);
        require(!(certExpired && certWrongHost), "tls-cert-expired and tls-cert-wrong-host exclude each other: "
                + "a connection presents one certificate, which fails verification in one way");
    }

    public boolean isNone() {
        return this == NONE || equals(NONE);
    }

    /** Whether a certificate fault is set, which needs the generated CA. */
    public boolean changesCertificate() {
        return certExpired || certWrongHost;
    }

    /** The certificate a toxic connection's handshake presents. */
    public ServedCertificate certificate() {
        return certExpired ? ServedCertificate.EXPIRED : certWrongHost ? ServedCertificate.WRONG_HOST : ServedCertificate.VALID;
    }

    public TlsFaults withHandshakeDelay(Duration delay) {
        return new TlsFaults(delay, stallHandshake, truncateAfter, certExpired, certWrongHost);
    }

    public TlsFaults withStallHandshake(boolean stall) {
        return new TlsFaults(handshakeDelay, stall, truncateAfter, certExpired, certWrongHost);
    }

    public TlsFaults withTruncateAfter(long bytes) {
        return new TlsFaults(handshakeDelay, stallHandshake, bytes, certExpired, certWrongHost);
    }

    public TlsFaults withCertExpired(boolean expired) {
        return new TlsFaults(handshakeDelay, stallHandshake, truncateAfter, expired, certWrongHost);
    }

    public TlsFaults withCertWrongHost(boolean wrongHost) {
        return new TlsFaults(handshakeDelay, stallHandshake, truncateAfter, certExpired, wrongHost);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
