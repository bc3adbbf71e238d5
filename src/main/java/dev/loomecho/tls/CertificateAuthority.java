package dev.loomecho.tls;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;

/**
 * A throwaway certificate authority, made at start and kept in memory only, like okhttp-tls's
 * {@code HeldCertificate} or Netty's pkitesting: a self-signed ECDSA P-256 CA that issues the server's
 * certificate and client certificates. Every certificate it makes is valid from an hour before it was
 * made (so a client whose clock is a little behind still accepts it) until a day after.
 */
public final class CertificateAuthority {

    /** The names the server certificate is valid for: a client on this machine reaches it by any of them. */
    public static final List<String> LOCAL_NAMES = List.of("localhost", "127.0.0.1", "::1");
    static final Duration BACKDATE = Duration.ofHours(1);
    static final Duration LIFETIME = Duration.ofDays(1);

    private final HeldCertificate root;

    private CertificateAuthority(HeldCertificate root) {
        this.root = root;
    }

    /** A new CA with a new key, named {@code loom-echo throwaway CA} and a random serial number. */
    public static CertificateAuthority generate() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS); // X.509 times count whole seconds
        return new CertificateAuthority(CertificateBuilder.of(CertificateBuilder.Purpose.CERTIFICATE_AUTHORITY,
                "loom-echo throwaway CA").validity(now.minus(BACKDATE), now.plus(LIFETIME)).build());
    }

    /** The CA certificate: the one thing a client must trust to verify the server. */
    public X509Certificate certificate() {
        return root.certificate();
    }

    public String certificatePem() {
        return root.certificatePem();
    }

    /** A server certificate for {@code names} (DNS names or IP literals), valid from an hour ago for a day. */
    public HeldCertificate issueServerCertificate(List<String> names) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return issueServerCertificate(names, now.minus(BACKDATE), now.plus(LIFETIME), CertificateBuilder.generateKeyPair());
    }

    /** A server certificate for a given key and validity, e.g. one that has expired on purpose. */
    HeldCertificate issueServerCertificate(List<String> names, Instant notBefore, Instant notAfter, KeyPair keys) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a server certificate names at least one host");
        }
        return CertificateBuilder.of(CertificateBuilder.Purpose.SERVER, names.get(0)).subjectAltNames(names)
                .validity(notBefore, notAfter).issuedBy(root).build(keys);
    }

    /**
     * A client certificate with subject {@code CN=name} (extended key usage clientAuth), valid from an
     * hour ago for a day: what a server with client authentication {@code want} or {@code need} trusts.
     */
    public HeldCertificate issueClientCertificate(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a client certificate needs a name");
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return CertificateBuilder.of(CertificateBuilder.Purpose.CLIENT, name)
                .validity(now.minus(BACKDATE), now.plus(LIFETIME)).issuedBy(root).build();
    }

    /** The JDK's PKIX trust manager with this CA as its only anchor. */
    public X509TrustManager trustManager() {
        return KeyStores.trusting(List.of(root.certificate()));
    }

    /**
     * A client {@code SSLContext} that trusts this CA and nothing else, and presents no certificate.
     * It checks the chain; to check the host name too, set {@code "HTTPS"} as the endpoint
     * identification algorithm of the socket's {@code SSLParameters} ({@code java.net.http.HttpClient}
     * does so itself).
     */
    public SSLContext clientContext() {
        return KeyStores.context(null, trustManager());
    }

    /** A client {@code SSLContext} that trusts this CA and presents {@code clientCertificate} when asked. */
    public SSLContext clientContext(HeldCertificate clientCertificate) {
        return KeyStores.context(KeyStores.holding(clientCertificate.privateKey(),
                List.of(clientCertificate.certificate())), trustManager());
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + root.certificate().getSubjectX500Principal().getName() + "]";
    }
}
