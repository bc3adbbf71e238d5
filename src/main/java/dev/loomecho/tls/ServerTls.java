package dev.loomecho.tls;

import java.io.IOException;
import java.net.Socket;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509TrustManager;

/**
 * A TLS listener's keys and contexts, made once at start from a {@link TlsConfig}: the throwaway CA,
 * the certificates it issued (valid, expired, wrong host), one server {@code SSLContext} for each, and
 * what a client needs to trust the server.
 *
 * <p>For clients: {@link #caCertificate()}, {@link #trustManager()} and {@link #clientContext()} trust
 * the generated CA only; {@link #issueClientCertificate} makes a certificate for client authentication.
 * For engines: {@link #serverSocket} layers a server-mode {@code SSLSocket} over an accepted socket and
 * {@link #serverEngine} makes an {@code SSLEngine}, each presenting the {@link ServedCertificate} asked for.
 *
 * <p>Each served certificate has its own context, hence its own session cache: a session made with the
 * valid certificate is never resumed on a connection meant to present the expired one.
 */
public final class ServerTls {

    /** The one name the wrong-host certificate is for: {@code .invalid} can never resolve (RFC 2606). */
    public static final String WRONG_HOST = "wrong-host.invalid";

    private final TlsConfig config;
    private final CertificateAuthority authority;
    private final Map<ServedCertificate, HeldCertificate> generated = new EnumMap<>(ServedCertificate.class);
    private final Map<ServedCertificate, SSLContext> contexts = new EnumMap<>(ServedCertificate.class);

    private ServerTls(TlsConfig config) {
        this.config = config;
        this.authority = CertificateAuthority.generate();
        X509TrustManager clientTrust = KeyStores.trusting(
                config.clientCa().isEmpty() ? List.of(authority.certificate()) : config.clientCa());
        if (config.key().isPresent()) {
            ServerKey own = config.key().get();
            contexts.put(ServedCertificate.VALID, serverContext(own.privateKey(), own.chain(), clientTrust));
            return;
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant notBefore = now.minus(CertificateAuthority.BACKDATE);
        Instant notAfter = now.plus(CertificateAuthority.LIFETIME);
        KeyPair keys = CertificateBuilder.generateKeyPair(); // one key, three certificates: only the certificate differs
        List<String> local = CertificateAuthority.LOCAL_NAMES;
        generated.put(ServedCertificate.VALID, authority.issueServerCertificate(local, notBefore, notAfter, keys));
        generated.put(ServedCertificate.EXPIRED, authority.issueServerCertificate(local,
                now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)), keys));
        generated.put(ServedCertificate.WRONG_HOST, authority.issueServerCertificate(List.of(WRONG_HOST),
                notBefore, notAfter, keys));
        generated.forEach((which, held) -> contexts.put(which,
                serverContext(held.privateKey(), List.of(held.certificate()), clientTrust)));
    }

    /** Makes the CA and certificates (a few milliseconds) and the server contexts. */
    public static ServerTls create(TlsConfig config) {
        return new ServerTls(config);
    }

    private SSLContext serverContext(PrivateKey key, List<X509Certificate> chain, X509TrustManager clientTrust) {
        return KeyStores.context(new HeldKeyManager(key, chain, !config.alpn().isEmpty()), clientTrust);
    }

    public TlsConfig config() {
        return config;
    }

    /** Whether the server presents a generated certificate (no {@link TlsConfig#key()} was given). */
    public boolean generatedCertificate() {
        return config.key().isEmpty();
    }

    /** The CA a client must trust to verify the server's certificate. */
    public X509Certificate caCertificate() {
        requireGenerated("its CA certificate");
        return authority.certificate();
    }

    public String caCertificatePem() {
        requireGenerated("its CA certificate");
        return authority.certificatePem();
    }

    /** The JDK's PKIX trust manager with the generated CA as its only anchor. */
    public X509TrustManager trustManager() {
        requireGenerated("a trust manager for it");
        return authority.trustManager();
    }

    /** A client context that trusts the generated CA and presents no certificate (see {@link CertificateAuthority#clientContext()}). */
    public SSLContext clientContext() {
        requireGenerated("a client context for it");
        return authority.clientContext();
    }

    /** A client context that trusts the generated CA and presents {@code clientCertificate}. */
    public SSLContext clientContext(HeldCertificate clientCertificate) {
        requireGenerated("a client context for it");
        return authority.clientContext(clientCertificate);
    }

    /**
     * A client certificate {@code CN=name} issued by the generated CA, which the server trusts for
     * client authentication unless {@link TlsConfig#clientCa()} names other CAs (then it is refused:
     * also worth a test).
     */
    public HeldCertificate issueClientCertificate(String name) {
        return authority.issueClientCertificate(name);
    }

    /** The certificate a handshake with {@code which} presents. */
    public X509Certificate servedCertificate(ServedCertificate which) {
        return which == ServedCertificate.VALID && config.key().isPresent()
                ? config.key().get().certificate() : generatedOrThrow(which).certificate();
    }

    /** The server context presenting {@code which}: the expired and wrong-host ones exist only when generated. */
    public SSLContext serverContext(ServedCertificate which) {
        SSLContext context = contexts.get(which);
        if (context == null) {
            throw notGenerated(which);
        }
        return context;
    }

    /**
     * What every server handshake uses: the configured protocols, ALPN list and client authentication;
     * a new copy each call, since {@code SSLParameters} is mutable.
     */
    public SSLParameters serverParameters() {
        SSLParameters parameters = contexts.get(ServedCertificate.VALID).getDefaultSSLParameters();
        if (!config.protocols().isEmpty()) {
            parameters.setProtocols(config.protocols().toArray(String[]::new));
        }
        if (!config.alpn().isEmpty()) {
            parameters.setApplicationProtocols(config.alpn().toArray(String[]::new));
        }
        switch (config.clientAuth()) {
            case NEED -> parameters.setNeedClientAuth(true);
            case WANT -> parameters.setWantClientAuth(true);
            case NONE -> parameters.setNeedClientAuth(false);
        }
        return parameters;
    }

    /**
     * A server-mode {@code SSLSocket} over {@code accepted}, which closing it closes. The handshake has
     * not begun: it starts with the first read or write, or {@code startHandshake()}.
     */
    public SSLSocket serverSocket(Socket accepted, ServedCertificate which) throws IOException {
        SSLSocket socket = (SSLSocket) serverContext(which).getSocketFactory().createSocket(accepted, null, true);
        socket.setSSLParameters(serverParameters());
        return socket;
    }

    /** A server-mode {@code SSLEngine}, for engines that drive TLS themselves (a reactor). */
    public SSLEngine serverEngine(ServedCertificate which) {
        SSLEngine engine = serverContext(which).createSSLEngine();
        engine.setUseClientMode(false);
        engine.setSSLParameters(serverParameters());
        return engine;
    }

    private HeldCertificate generatedOrThrow(ServedCertificate which) {
        HeldCertificate held = generated.get(which);
        if (held == null) {
            throw notGenerated(which);
        }
        return held;
    }

    private IllegalStateException notGenerated(ServedCertificate which) {
        return new IllegalStateException("the " + which.name().toLowerCase(Locale.ROOT).replace('_', '-')
                + " certificate is generated only when the server generates its own: it serves the given "
                + config.key().map(ServerKey::toString).orElse("key"));
    }

    private void requireGenerated(String what) {
        if (config.key().isPresent()) {
            throw new IllegalStateException("the server presents your own certificate ("
                    + config.key().get().certificate().getSubjectX500Principal().getName()
                    + "), not a generated one, so it has no generated CA to give " + what + "; trust your certificate's issuer");
        }
    }

    @Override
    public String toString() {
        return "ServerTls[" + (generatedCertificate() ? "generated certificate" : config.key().get()) + "]";
    }
}
