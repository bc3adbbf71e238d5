package dev.loomecho.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM (RFC 7468) in and out: certificates and PKCS#8 keys written as openssl writes them, and the
 * blocks of a file read back, text around them ignored (as in openssl's own output, "Bag Attributes" and
 * the like). Blocks with headers ({@code Proc-Type: 4,ENCRYPTED}, the old encrypted form) are refused.
 */
public final class Pem {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\R(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final Base64.Encoder BASE64_LINES = Base64.getMimeEncoder(64, new byte[] {'\n'});

    /** One block: its label ({@code CERTIFICATE}, {@code PRIVATE KEY}, ...) and the DER it holds. */
    record Block(String label, byte[] der) {
    }

    private Pem() {
    }

    public static String certificate(X509Certificate certificate) {
        try {
            return encode("CERTIFICATE", certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode " + certificate.getSubjectX500Principal(), e);
        }
    }

    /** The key as unencrypted PKCS#8, {@code -----BEGIN PRIVATE KEY-----}. */
    public static String privateKey(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("a " + key.getAlgorithm() + " key in format " + key.getFormat()
                    + " cannot be written as PKCS#8 (a hardware key?)");
        }
        return encode("PRIVATE KEY", key.getEncoded());
    }

    static String encode(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + BASE64_LINES.encodeToString(der) + "\n-----END " + label + "-----\n";
    }

    /** Every block in {@code text}, in order. */
    static List<Block> blocks(String text) {
        List<Block> blocks = new ArrayList<>();
        Matcher matcher = BLOCK.matcher(text);
        while (matcher.find()) {
            String label = matcher.group(1);
            String body = matcher.group(2);
            if (body.contains(":")) {
                throw new IllegalArgumentException("the " + label + " block has headers (" + firstLine(body)
                        + "): an encrypted key in the old openssl form is not read; decrypt it first "
                        + "(openssl pkey -in KEY -out PLAIN) or use a PKCS#12 keystore with its password");
            }
            try {
                blocks.add(new Block(label, Base64.getMimeDecoder().decode(body.strip())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the " + label + " block is not base64: " + e.getMessage(), e);
            }
        }
        return blocks;
    }

    private static String firstLine(String body) {
        return body.strip().lines().findFirst().orElse("");
    }

    /** The certificates of a PEM file, in order (a chain: the leaf first). */
    static List<X509Certificate> certificates(Path file) throws IOException {
        List<X509Certificate> certificates = new ArrayList<>();
        List<Block> blocks;
        try {
            blocks = blocks(read(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        for (Block block : blocks) {
            if (block.label().equals("CERTIFICATE")) {
                certificates.add(parseCertificate(block.der(), file));
            }
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(certificates);
    }

    private static X509Certificate parseCertificate(byte[] der, Path file) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException e) {
            throw new IllegalArgumentException(file + " holds a certificate that does not parse: " + e.getMessage(), e);
        }
    }

    /** Reads a PEM file as text; PEM is ASCII, and anything else in it is ignored. */
    static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    }

    /**
     * Writes {@code pem} to {@code file}, replacing it. A secret is first written to a new file that
     * only its owner may read (a temporary file is created so on POSIX systems) and then moved in place,
     * so the key is never readable by others, not even for a moment.
     */
    static void write(Path file, String pem, boolean secret) throws IOException {
        byte[] bytes = pem.getBytes(StandardCharsets.US_ASCII);
        if (!secret) {
            Files.write(file, bytes);
            return;
        }
        Path directory = file.toAbsolutePath().getParent();
        Path temporary = Files.createTempFile(directory, ".loom-echo-", ".pem");
        try {
            Files.write(temporary, bytes);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
