package dev.loomecho.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * A certificate with its private key, as okhttp-tls names it: what a server or a client presents in a
 * handshake. The generated ones live in memory only; {@link #writePem} puts one on disk for a client in
 * another process.
 *
 * @param certificate the certificate, issued by the {@link CertificateAuthority} that made it
 * @param privateKey  its key; never logged ({@link #toString()} leaves it out)
 */
public record HeldCertificate(X509Certificate certificate, PrivateKey privateKey) {

    public HeldCertificate {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(privateKey, "privateKey");
    }

    public String certificatePem() {
        return Pem.certificate(certificate);
    }

    /** The key as unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}), which openssl, Python, Go and curl read. */
    public String privateKeyPem() {
        return Pem.privateKey(privateKey);
    }

    /**
     * Writes {@code NAME.pem} (the certificate) and {@code NAME-key.pem} (the key, readable by its owner
     * only where the file system has POSIX permissions) into {@code directory}, which must exist.
     */
    public void writePem(Path directory, String name) throws IOException {
        Pem.write(directory.resolve(name + ".pem"), certificatePem(), false);
        Pem.write(directory.resolve(name + "-key.pem"), privateKeyPem(), true);
    }

    @Override
    public String toString() {
        return "HeldCertificate[" + certificate.getSubjectX500Principal().getName() + ", key "
                + privateKey.getAlgorithm() + " (hidden)]";
    }
}
