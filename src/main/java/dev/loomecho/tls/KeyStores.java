package dev.loomecho.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * The JDK's own trust managers over in-memory key stores, so every check of a peer (PKIX path
 * validation, expiry, key usage) is the JDK's, not ours; and the key managers that present our own
 * key. Nothing here touches a file.
 */
final class KeyStores {


    private KeyStores() {
    }

    /** A PKIX trust manager whose only anchors are {@code authorities}. */
    static X509TrustManager trusting(List<X509Certificate> authorities) {
        try {
            KeyStore store = emptyStore();
            for (int i = 0; i < authorities.size(); i++) {
                store.setCertificateEntry("authority-" + i, authorities.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            for (TrustManager manager : factory.getTrustManagers()) {
                if (manager instanceof X509TrustManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK's PKIX TrustManagerFactory made no X509TrustManager");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a trust manager", e);
        }
    }

    /** A key manager holding one key and its chain in memory (see {@link HeldKeyManager} for why not the JDK's). */
    static X509ExtendedKeyManager holding(PrivateKey key, List<X509Certificate> chain) {
        return new HeldKeyManager(key, chain, false);
    }

    /** A TLS context with these managers; {@code keyManager} may be null (a client without a certificate). */
    static SSLContext context(KeyManager keyManager, X509TrustManager trustManager) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManager == null ? null : new KeyManager[] {keyManager},
                    trustManager == null ? null : new TrustManager[] {trustManager}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a TLS context", e);
        }
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException impossible) {
            throw new IllegalStateException(impossible); // loading no stream reads nothing
        }
        return store;
    }
}
