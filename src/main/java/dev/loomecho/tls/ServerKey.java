package dev.loomecho.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A user's own server key and certificate chain, served instead of the generated ones. Read from PEM
 * files ({@link #fromPem}) or a key store ({@link #fromKeyStore}); either way the key is checked
 * against the first certificate, so a mismatched pair is refused at start, not at the first handshake.
 *
 * @param privateKey the server's key (EC, RSA, RSASSA-PSS, Ed25519 or Ed448); never logged
 * @param chain      its certificate first, then any intermediates, as they are sent to clients
 */
public record ServerKey(PrivateKey privateKey, List<X509Certificate> chain) {

    public ServerKey {
        Objects.requireNonNull(privateKey, "privateKey");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a server key needs its certificate");
        }
        requireMatch(privateKey, chain.get(0));
    }

    /** The certificate the key belongs to. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /**
     * Reads a PEM certificate chain (leaf first) and a PEM private key: PKCS#8, SEC1 ({@code EC PRIVATE
     * KEY}) or PKCS#1 ({@code RSA PRIVATE KEY}), unencrypted. Both may be the same file. A file that is
     * missing or wrong raises {@link IllegalArgumentException} naming it.
     */
    public static ServerKey fromPem(Path certificateFile, Path keyFile) throws IOException {
        List<X509Certificate> chain = withFile(certificateFile, () -> Pem.certificates(certificateFile));
        PrivateKey key = withFile(keyFile, () -> PrivateKeys.fromPem(Pem.blocks(Pem.read(keyFile))));
        try {
            return new ServerKey(key, chain);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(keyFile + " and " + certificateFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the one key entry of a PKCS#12 key store (or a JKS one: the JDK recognizes either by its
     * content); the key's password is the store's, as {@code openssl pkcs12 -export} and keytool write them.
     */
    public static ServerKey fromKeyStore(Path file, char[] password) throws IOException {
        return withFile(file, () -> {
            try {
                KeyStore store = KeyStore.getInstance(file.toFile(), password);
                List<String> keyAliases = new ArrayList<>();
                for (String alias : Collections.list(store.aliases())) {
                    if (store.isKeyEntry(alias)) {
                        keyAliases.add(alias);
                    }
                }
                if (keyAliases.size() != 1) {
                    throw new IllegalArgumentException(keyAliases.isEmpty() ? "the key store holds no private key"
                            : "the key store holds " + keyAliases.size() + " keys " + keyAliases + "; give one with a single key");
                }
                String alias = keyAliases.get(0);
                Key key = store.getKey(alias, password);
                if (!(key instanceof PrivateKey privateKey)) {
                    throw new IllegalArgumentException("the entry " + alias + " is not a private key");
                }
                List<X509Certificate> chain = new ArrayList<>();
                for (Certificate certificate : store.getCertificateChain(alias)) {
                    chain.add((X509Certificate) certificate);
                }
                return new ServerKey(privateKey, chain);
            } catch (UnrecoverableKeyException e) {
                throw new IllegalArgumentException("wrong password for the key", e);
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("not a key store this JDK reads: " + e.getMessage(), e);
            } catch (IOException e) {
                if (e.getCause() instanceof UnrecoverableKeyException) {
                    throw new IllegalArgumentException("wrong password (or not a PKCS#12 key store)", e);
                }
                throw e;
            }
        });
    }

    /** A signature made with the key must verify with the certificate's public key. */
    private static void requireMatch(PrivateKey key, X509Certificate certificate) {
        PublicKey publicKey = certificate.getPublicKey();
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "RSASSA-PSS" -> "RSASSA-PSS";
            default -> key.getAlgorithm(); // EdDSA, Ed25519, Ed448: the signature is named like the key
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            if (algorithm.equals("RSASSA-PSS")) {
                signer.setParameter(new PSSParameterSpec("SHA-256", "MGF1",
                        MGF1ParameterSpec.SHA256, 32, 1));
            }
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            signer.initVerify(publicKey);
            signer.update(challenge);
            if (!signer.verify(signature)) {
                throw new IllegalArgumentException("the key does not belong to the certificate "
                        + certificate.getSubjectX500Principal().getName());
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the " + key.getAlgorithm() + " key does not belong to the "
                    + publicKey.getAlgorithm() + " certificate " + certificate.getSubjectX500Principal().getName(), e);
        }
    }

    @FunctionalInterface
    private interface FileReader<T> {
        T read() throws IOException;
    }

    /** Puts the file's name in front of every reason, so the CLI can print it as it is. */
    private static <T> T withFile(Path file, FileReader<T> reader) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": " + (Files.exists(file) ? "not a regular file" : "no such file"));
        }
        try {
            return reader.read();
        } catch (IllegalArgumentException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(file.toString()) ? e
                    : new IllegalArgumentException(file + ": " + e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file", e);
        }
    }

    @Override
    public String toString() {
        return "ServerKey[" + certificate().getSubjectX500Principal().getName() + ", key " + privateKey.getAlgorithm()
                + " (hidden), chain of " + chain.size() + "]";
    }
}
