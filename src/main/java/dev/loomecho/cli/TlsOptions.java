package dev.loomecho.cli;

import dev.loomecho.EchoServer;
import dev.loomecho.engine.Listeners;
import dev.loomecho.fault.FaultFlag;
import dev.loomecho.tls.CertificateAuthority;
import dev.loomecho.tls.ClientAuth;
import dev.loomecho.tls.HeldCertificate;
import dev.loomecho.tls.ServedCertificate;
import dev.loomecho.tls.ServerTls;
import dev.loomecho.tls.TlsConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code serve}'s TLS flags, a picocli mixin: the listener and its keys ({@code --tls-port},
 * {@code --tls-cert}/{@code --tls-key} or {@code --tls-keystore}, client authentication, protocols,
 * ALPN), where to write the trust a client needs, and the TLS faults, which go through {@link FaultFlag}
 * like every fault.
 */
final class TlsOptions {

    static final String PASSWORD_VARIABLE = "LOOM_ECHO_TLS_PASSWORD";
    /** The subject of the client certificate {@code --tls-client-cert-out} writes. */
    static final String CLIENT_NAME = "loom-echo-client";

    @Option(names = "--tls-port", paramLabel = "PORT",
            description = "Also serve TLS on this port of the bind address (0 = any free port, printed at start); "
                    + "virtual, platform and selector engines. Without --tls-cert or --tls-keystore the server makes a "
                    + "throwaway CA and a certificate for localhost, 127.0.0.1 and ::1 at start.")
    Integer port;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "Serve this PEM certificate chain (leaf first) instead of a generated one; with --tls-key.")
    Path certificate;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "The PEM private key of --tls-cert: PKCS#8, EC (SEC1) or RSA (PKCS#1), unencrypted.")
    Path key;

    @Option(names = "--tls-keystore", paramLabel = "FILE",
            description = "Serve the one key of this PKCS#12 (or JKS) key store instead of a generated certificate.")
    Path keyStore;

    @Option(names = "--tls-keystore-password", paramLabel = "PASSWORD",
            description = "The key store's password; default: the " + PASSWORD_VARIABLE
                    + " environment variable (which, unlike an argument, ps does not show), else empty.")
    String keyStorePassword;

    @Option(names = "--tls-client-auth", paramLabel = "MODE",
            description = "Ask TLS clients for a certificate: none, want (a client without one is served) or need.")
    ClientAuth clientAuth;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "Client certificates must chain to these PEM CAs (default: the generated CA).")
    Path clientCa;

    @Option(names = "--tls-protocols", paramLabel = "VERSION", split = ",",
            description = "Only these TLS versions, e.g. TLSv1.2 (default: the JDK's, TLSv1.3 and TLSv1.2).")
    List<String> protocols;

    @Option(names = "--tls-alpn", paramLabel = "PROTOCOL", split = ",",
            description = "ALPN protocols in order of preference, e.g. h2,http/1.1: a client gets the first it "
                    + "offers; a client that offers none of them fails the handshake.")
    List<String> alpn;

    @Option(names = "--tls-ca-out", paramLabel = "FILE",
            description = "Write the generated CA certificate here (PEM), for clients to trust.")
    Path caOut;

    @Option(names = "--tls-client-cert-out", paramLabel = "DIR",
            description = "Write a client certificate issued by the generated CA into DIR: client.pem, "
                    + "client-key.pem (owner-only) and ca.pem.")
    Path clientCertOut;

    // The TLS faults: text, parsed by the one grammar in FaultFlag, as the control API's JSON is.
    @Option(names = "--tls-handshake-delay", paramLabel = "MS",
            description = "Fault: wait MS milliseconds before answering a TLS ClientHello.")
    String handshakeDelay;

    @Option(names = "--tls-stall-handshake", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "Fault: accept TLS connections but never answer the ClientHello.")
    String stallHandshake;

    @Option(names = "--tls-truncate-after", paramLabel = "BYTES",
            description = "Fault: after echoing BYTES, close TCP without close_notify (a truncation); -1 = off.")
    String truncateAfter;

    @Option(names = "--tls-cert-expired", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "Fault: present a generated certificate that expired a day ago.")
    String certExpired;

    @Option(names = "--tls-cert-wrong-host", paramLabel = "true|false", arity = "0..1", fallbackValue = "true",
            description = "Fault: present a generated certificate for wrong-host.invalid only.")
    String certWrongHost;

    /** The TLS faults' values, for {@code Serve} to parse with the others. */
    void putFaults(Map<FaultFlag, String> given) {
        given.put(FaultFlag.TLS_HANDSHAKE_DELAY, handshakeDelay);
        given.put(FaultFlag.TLS_STALL_HANDSHAKE, stallHandshake);
        given.put(FaultFlag.TLS_TRUNCATE_AFTER, truncateAfter);
        given.put(FaultFlag.TLS_CERT_EXPIRED, certExpired);
        given.put(FaultFlag.TLS_CERT_WRONG_HOST, certWrongHost);
    }

    /**
     * The listener's configuration, or empty without {@code --tls-port}. A bad combination or an unusable
     * file raises {@link IllegalArgumentException} with the reason, which the CLI prints and exits 2 with.
     */
    Optional<TlsConfig> toConfig() {
        if (port == null) {
            List<String> given = givenWithoutPort();
            if (!given.isEmpty()) {
                throw new IllegalArgumentException(String.join(", ", given) + " need" + (given.size() == 1 ? "s" : "")
                        + " a TLS listener: add --tls-port PORT");
            }
            return Optional.empty();
        }
        require(certificate == null == (key == null), "--tls-cert and --tls-key go together: the certificate and its key");
        require(certificate == null || keyStore == null, "give --tls-cert and --tls-key, or --tls-keystore, not both");
        require(keyStorePassword == null || keyStore != null, "--tls-keystore-password needs --tls-keystore");
        boolean ownKey = certificate != null || keyStore != null;
        require(!ownKey || caOut == null, "--tls-ca-out writes the generated CA, and with your own key there is none: "
                + "give clients your certificate's issuer");
        TlsConfig.Builder builder = TlsConfig.builder().port(port);
        if (certificate != null) {
            builder.keyFiles(certificate, key);
        } else if (keyStore != null) {
            builder.keyStore(keyStore, keyStorePassword().toCharArray());
        }
        if (clientAuth != null) {
            builder.clientAuth(clientAuth);
        }
        if (clientCa != null) {
            builder.clientCa(clientCa);
        }
        if (protocols != null) {
            builder.protocols(protocols.toArray(String[]::new));
        }
        if (alpn != null) {
            builder.alpn(alpn.toArray(String[]::new));
        }
        return Optional.of(builder.build());
    }

    private List<String> givenWithoutPort() {
        List<String> given = new ArrayList<>();
        addIf(given, certificate != null, "--tls-cert");
        addIf(given, key != null, "--tls-key");
        addIf(given, keyStore != null, "--tls-keystore");
        addIf(given, clientAuth != null, "--tls-client-auth");
        addIf(given, clientCa != null, "--tls-client-ca");
        addIf(given, protocols != null, "--tls-protocols");
        addIf(given, alpn != null, "--tls-alpn");
        addIf(given, caOut != null, "--tls-ca-out");
        addIf(given, clientCertOut != null, "--tls-client-cert-out");
        return given;
    }

    private static void addIf(List<String> list, boolean condition, String flag) {
        if (condition) {
            list.add(flag);
        }
    }

    private String keyStorePassword() {
        if (keyStorePassword != null) {
            return keyStorePassword;
        }
        String fromEnvironment = System.getenv(PASSWORD_VARIABLE);
        return fromEnvironment == null ? "" : fromEnvironment;
    }

    /**
     * After the start: prints where TLS is served and with what certificate, and writes the files asked
     * for. Throws {@link IOException} naming the flag when a file cannot be written.
     */
    void announce(EchoServer server, PrintWriter out) throws IOException {
        if (!server.hasTls()) {
            return;
        }
        ServerTls tls = server.tls();
        X509Certificate served = tls.servedCertificate(ServedCertificate.VALID);
        out.printf("loom-echo TLS on %s (%s, valid until %s%s)%n", Listeners.describe(server.tlsAddress()),
                tls.generatedCertificate() ? "certificate for " + String.join(", ", CertificateAuthority.LOCAL_NAMES)
                        + " from a throwaway CA made at start" : served.getSubjectX500Principal().getName(),
                served.getNotAfter().toInstant(), tls.config().clientAuth() == ClientAuth.NONE ? ""
                        : "; client certificates: " + tls.config().clientAuth().cliName());
        if (caOut != null) {
            write("--tls-ca-out", () -> Files.writeString(caOut, tls.caCertificatePem()));
            out.printf("loom-echo TLS CA certificate written to %s%n", caOut);
        }
        if (clientCertOut != null) {
            write("--tls-client-cert-out", () -> {
                Files.createDirectories(clientCertOut);
                HeldCertificate client = tls.issueClientCertificate(CLIENT_NAME);
                client.writePem(clientCertOut, "client");
                if (tls.generatedCertificate()) {
                    Files.writeString(clientCertOut.resolve("ca.pem"), tls.caCertificatePem());
                }
                return null;
            });
            out.printf("loom-echo TLS client certificate (CN=%s) written to %s%n", CLIENT_NAME, clientCertOut);
        }
    }

    @FunctionalInterface
    private interface Writer {
        Object write() throws IOException;
    }

    private static void write(String flag, Writer writer) throws IOException {
        try {
            writer.write();
        } catch (IOException e) {
            throw new IOException(flag + ": cannot write " + e.getMessage() + " (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
