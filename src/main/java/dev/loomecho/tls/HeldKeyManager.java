package dev.loomecho.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Hands the TLS layer its one key and chain, held in memory, for a server or a client. The JDK's own
 * key managers read the key from their {@code KeyStore} on every handshake, and from a PKCS#12 store
 * that means decrypting it again (PBKDF2: thousands of HMACs), which was most of a handshake's CPU time
 * in a profile (the commit that brought this class in has the figures).
 *
 * <p>For a server with ALPN protocols configured, one more rule: a ClientHello that offers none gets no
 * certificate, so its handshake fails (alert handshake_failure). The JDK itself refuses a client that
 * offers only unknown protocols ({@code no_application_protocol}) but serves one that offers none at
 * all; choosing the certificate is the first point of the handshake where that is known (the
 * ClientHello's extensions are read), in TLS 1.2 and 1.3 alike. A resumed session chooses no
 * certificate, so a client could get past the check by resuming a session it made with ALPN: with ALPN
 * configured, every session is therefore invalidated here, before the JDK would cache it or send a
 * ticket for it, and each handshake is a full one, and checked.
 */
final class HeldKeyManager extends X509ExtendedKeyManager {

    private static final String ALIAS = "key";

    private final PrivateKey key;
    private final X509Certificate[] chain;
    private final boolean requireAlpn;

    /** A key manager for {@code key} and {@code chain}; a server's with {@code requireAlpn} refuses a client without ALPN. */
    HeldKeyManager(PrivateKey key, List<X509Certificate> chain, boolean requireAlpn) {
        this.key = key;
        this.chain = chain.toArray(X509Certificate[]::new);
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
        return fits(keyType) ? ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        if (requireAlpn && engine != null) {
            engine.getHandshakeSession().invalidate();
            if (offeredNoProtocol(engine.getHandshakeApplicationProtocol())) {
                return null;
            }
        }
        return fits(keyType) ? ALIAS : null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        for (String keyType : keyTypes) {
            if (fits(keyType)) {
                return ALIAS;
            }
        }
        return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return chooseClientAlias(keyTypes, issuers, null);
    }

    /** The JDK sets the protocol to "" when the ClientHello has no ALPN extension (null: not known yet). */
    private static boolean offeredNoProtocol(String negotiated) {
        return negotiated != null && negotiated.isEmpty();
    }

    /**
     * Whether the TLS layer's key type (TLS 1.3: {@code EC}, {@code RSA}, {@code RSASSA-PSS},
     * {@code EdDSA}; TLS 1.2 also {@code EC_EC} and the like, key and signer) names our key's algorithm.
     */
    private boolean fits(String keyType) {
        String type = keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
        String algorithm = key.getAlgorithm();
        return type.equalsIgnoreCase(algorithm) || type.equals("EdDSA") && algorithm.startsWith("Ed");
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return fits(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return getServerAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? key : null;
    }
}
