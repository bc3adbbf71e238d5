package dev.loomecho.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * The TLS listener's settings, validated once; built by the CLI and the embedding API through
 * {@link Builder}, whose field initializers hold every default. By default the server generates its
 * own CA and certificate ({@link CertificateAuthority}), asks no client for a certificate, and offers
 * what the JDK enables (TLS 1.3 and 1.2) with no ALPN.
 *
 * @param port       TCP port of the TLS listener, on the server's bind address; 0 = any free port
 * @param key        the user's own key and certificate chain; empty = generate a throwaway CA and certificate
 * @param clientAuth whether clients are asked for a certificate
 * @param clientCa   the CAs a client certificate must chain to; empty = the generated CA
 * @param protocols  the TLS versions offered ({@code TLSv1.3}, {@code TLSv1.2}, ...); empty = the JDK's defaults
 * @param alpn       ALPN protocols, in the server's order of preference: a client offering one of them gets
 *                   it; a client offering none (or only others) fails the handshake. Empty = no ALPN
 */
public record TlsConfig(int port, Optional<ServerKey> key, ClientAuth clientAuth, List<X509Certificate> clientCa,
                        List<String> protocols, List<String> alpn) {

    /** The longest ALPN protocol name RFC 7301 allows, in bytes. */
    static final int MAX_ALPN_LENGTH = 255;

    public TlsConfig {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(clientAuth, "clientAuth");
        clientCa = List.copyOf(clientCa);
        protocols = List.copyOf(protocols);
        alpn = List.copyOf(alpn);
        require(port >= 0 && port <= 65_535, "tls-port must be 0..65535, was " + port);
        require(clientCa.isEmpty() || clientAuth != ClientAuth.NONE,
                "tls-client-ca is used only with --tls-client-auth want or need");
        requireNoDuplicates("tls-protocols", protocols);
        protocols.forEach(TlsConfig::requireUsableProtocol);
        requireNoDuplicates("tls-alpn", alpn);
        alpn.forEach(TlsConfig::requireAlpnName);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Generated certificate, any free port, no client authentication, the JDK's protocols, no ALPN. */
    public static TlsConfig defaults() {
        return builder().build();
    }

    private static void requireUsableProtocol(String protocol) {
        List<String> supported = supportedProtocols();
        require(supported.contains(protocol), "tls-protocols: " + protocol + " is not a TLS version this JDK "
                + "knows; it knows " + String.join(", ", supported));
        require(!disabledBySecurityProperty(protocol), "tls-protocols: " + protocol + " is disabled in this JDK "
                + "(security property jdk.tls.disabledAlgorithms); no handshake could use it");
    }

    /** What the JDK can speak, e.g. TLSv1.3, TLSv1.2, TLSv1.1, TLSv1, SSLv3, SSLv2Hello. */
    private static List<String> supportedProtocols() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[0], new TrustManager[0], null); // no key or trust store is loaded
            return List.of(context.getSupportedSSLParameters().getProtocols());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no TLS", e);
        }
    }

    private static boolean disabledBySecurityProperty(String protocol) {
        String disabled = Security.getProperty("jdk.tls.disabledAlgorithms");
        return disabled != null && Arrays.stream(disabled.split(","))
                .map(String::strip).anyMatch(protocol::equalsIgnoreCase);
    }

    /** Printable ASCII without commas, so that the CLI's comma list and the wire agree (RFC 7301: 1..255 bytes). */
    private static void requireAlpnName(String name) {
        require(!name.isEmpty() && name.length() <= MAX_ALPN_LENGTH
                        && name.chars().allMatch(c -> c > ' ' && c < 0x7f && c != ','),
                "tls-alpn: a protocol name is 1 to 255 printable ASCII characters without commas, was \"" + name + "\"");
    }

    private static void requireNoDuplicates(String flag, List<String> values) {
        require(new HashSet<>(values.stream().map(v -> v.toLowerCase(Locale.ROOT)).toList()).size() == values.size(),
                flag + " lists a value twice: " + String.join(",", values));
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * Mutable builder; every default lives in its field initializers. The methods that read files read
     * them at once and throw {@link IllegalArgumentException} naming the file when it cannot be used.
     */
    public static final class Builder {
        private int port = 0;
        private Optional<ServerKey> key = Optional.empty();
        private ClientAuth clientAuth = ClientAuth.NONE;
        private List<X509Certificate> clientCa = List.of();
        private List<String> protocols = List.of();
        private List<String> alpn = List.of();

        private Builder() {
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Serves this key and chain instead of a generated certificate. */
        public Builder key(ServerKey key) {
            this.key = Optional.of(key);
            return this;
        }

        /** {@code --tls-cert FILE --tls-key FILE}: see {@link ServerKey#fromPem}. */
        public Builder keyFiles(Path certificateFile, Path keyFile) {
            return key(read(certificateFile, () -> ServerKey.fromPem(certificateFile, keyFile)));
        }

        /** {@code --tls-keystore FILE}: see {@link ServerKey#fromKeyStore}; the password array is not kept. */
        public Builder keyStore(Path file, char[] password) {
            return key(read(file, () -> ServerKey.fromKeyStore(file, password)));
        }

        public Builder clientAuth(ClientAuth clientAuth) {
            this.clientAuth = clientAuth;
            return this;
        }

        /** Client certificates must chain to one of these CAs (instead of the generated one). */
        public Builder clientCa(List<X509Certificate> authorities) {
            this.clientCa = authorities;
            return this;
        }

        /** {@code --tls-client-ca FILE}: the PEM certificates in the file. */
        public Builder clientCa(Path pemFile) {
            return clientCa(read(pemFile, () -> Pem.certificates(pemFile)));
        }

        /** Only these TLS versions, e.g. {@code "TLSv1.2"} to test a client's fallback or refusal. */
        public Builder protocols(String... protocols) {
            this.protocols = List.of(protocols);
            return this;
        }

        /** ALPN protocols in order of preference, e.g. {@code "h2", "http/1.1"}. */
        public Builder alpn(String... protocols) {
            this.alpn = List.of(protocols);
            return this;
        }

        public TlsConfig build() {
            return new TlsConfig(port, key, clientAuth, clientCa, protocols, alpn);
        }

        @FunctionalInterface
        private interface Reader<T> {
            T read() throws IOException;
        }

        private static <T> T read(Path file, Reader<T> reader) {
            try {
                return reader.read();
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ": cannot be read (" + e + ")", e);
            }
        }
    }
}
