package dev.loomecho.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The JDK's key manager for the served key, with one addition: when ALPN protocols are configured, a
 * ClientHello that offers none gets no certificate, so its handshake fails (alert handshake_failure).
 * The JDK itself refuses a client that offers only unknown protocols ({@code no_application_protocol})
 * but serves one that offers none at all; this is the first point of the handshake where that is known
 * (the ClientHello's extensions are read, the certificate is not chosen yet), in TLS 1.2 and 1.3 alike.
 *
 * <p>A resumed session chooses no certificate, so a client could get past this check by resuming a
 * session it made with ALPN. With ALPN configured, every session is therefore invalidated here, before
 * the JDK would cache it or send a ticket for it: each handshake is a full one, and checked.
 */
final class ServerKeyManager extends X509ExtendedKeyManager {

    private final X509ExtendedKeyManager delegate;
    private final boolean requireAlpn;

    ServerKeyManager(X509ExtendedKeyManager delegate, boolean requireAlpn) {
        this.delegate = delegate;
        this.requireAlpn = requireAlpn;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        if (requireAlpn && socket instanceof SSLSocket ssl) {
            ssl.getHandshakeSession().invalidate();
            if (offeredNoProtocol(ssl.getHandshakeApplicationProtocol())) {
                return null;
            }
        }
        return delegate.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (requireAlpn && engine != null) {
            engine.getHandshakeSession().invalidate();
            if (offeredNoProtocol(engine.getHandshakeApplicationProtocol())) {
                return null;
            }
        }
        return delegate.chooseEngineServerAlias(keyType, issuers, engine);
    }

    /** The JDK sets the protocol to "" when the ClientHello has no ALPN extension (null: not known yet). */
    private static boolean offeredNoProtocol(String negotiated) {
        return negotiated != null && negotiated.isEmpty();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return delegate.getPrivateKey(alias);
    }

    // A server presents no client certificate.
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return null;
    }
}
