package dev.loomecho.tls;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Writes and signs the X.509 v3 certificates of the throwaway PKI (RFC 5280): a self-signed CA, and
 * server and client certificates it issues. Every key is ECDSA P-256 and every signature
 * SHA256withECDSA, by the JDK's {@link Signature}; this class only lays out the TBSCertificate in DER.
 * The JDK has no public API for that, and this is the one shape we need, so it is written here rather
 * than taken from a library (see {@code docs/ARCHITECTURE.md}, "TLS").
 */
final class CertificateBuilder {

    private static final String EC_PUBLIC_KEY = "1.2.840.10045.2.1";
    private static final String ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
    private static final String ORGANIZATION = "2.5.4.10";
    private static final String COMMON_NAME = "2.5.4.3";
    private static final String SUBJECT_KEY_IDENTIFIER = "2.5.29.14";
    private static final String KEY_USAGE = "2.5.29.15";
    private static final String SUBJECT_ALT_NAME = "2.5.29.17";
    private static final String BASIC_CONSTRAINTS = "2.5.29.19";
    private static final String AUTHORITY_KEY_IDENTIFIER = "2.5.29.35";
    private static final String EXTENDED_KEY_USAGE = "2.5.29.37";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final int DIGITAL_SIGNATURE = 0;
    private static final int KEY_CERT_SIGN = 5;
    private static final int CRL_SIGN = 6;
    private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a certificate is for: its basicConstraints, keyUsage and extendedKeyUsage follow from it. */
    enum Purpose { CERTIFICATE_AUTHORITY, SERVER, CLIENT }

    private final Purpose purpose;
    private final String commonName;
    private List<String> subjectAltNames = List.of();
    private Instant notBefore;
    private Instant notAfter;
    private HeldCertificate issuer; // null: self-signed

    private CertificateBuilder(Purpose purpose, String commonName) {
        this.purpose = purpose;
        this.commonName = Objects.requireNonNull(commonName, "commonName");
    }

    static CertificateBuilder of(Purpose purpose, String commonName) {
        return new CertificateBuilder(purpose, commonName);
    }

    /** DNS names and IP literals the certificate is valid for (its subjectAltName). */
    CertificateBuilder subjectAltNames(List<String> names) {
        this.subjectAltNames = List.copyOf(names);
        return this;
    }

    CertificateBuilder validity(Instant notBefore, Instant notAfter) {
        this.notBefore = notBefore;
        this.notAfter = notAfter;
        return this;
    }

    CertificateBuilder issuedBy(HeldCertificate issuer) {
        this.issuer = issuer;
        return this;
    }

    /** A new P-256 key pair and a certificate for its public key. */
    HeldCertificate build() {
        return build(generateKeyPair());
    }

    /** A certificate for {@code keyPair}'s public key, e.g. a second certificate for the same key. */
    HeldCertificate build(KeyPair keyPair) {
        Objects.requireNonNull(notBefore, "validity");
        try {
            byte[] tbs = tbsCertificate(keyPair.getPublic());
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(issuer == null ? keyPair.getPrivate() : issuer.privateKey());
            signer.update(tbs);
            // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
            byte[] der = Der.sequence(tbs, signatureAlgorithm(), Der.bitString(signer.sign()));
            X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
            return new HeldCertificate(certificate, keyPair.getPrivate());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make an ECDSA P-256 certificate", e);
        }
    }

    static KeyPair generateKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot generate an EC P-256 key", e);
        }
    }

    private byte[] tbsCertificate(PublicKey subjectKey) throws GeneralSecurityException {
        byte[] subject = name(commonName);
        byte[] issuerName = issuer == null ? subject : issuer.certificate().getSubjectX500Principal().getEncoded();
        return Der.sequence(
                Der.explicit(0, Der.integer(2)), // version v3
                Der.integer(serialNumber()),
                signatureAlgorithm(),
                issuerName,
                Der.sequence(Der.time(notBefore), Der.time(notAfter)),
                subject,
                subjectKey.getEncoded(), // the JDK's encoding is already a SubjectPublicKeyInfo
                Der.explicit(3, Der.sequence(extensions(subjectKey))));
    }

    /** Positive, at most 20 bytes and unpredictable, as RFC 5280 4.1.2.2 and the CA/Browser rules ask. */
    private static BigInteger serialNumber() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        bytes[0] |= 0x40; // never zero, and never a leading zero byte to strip
        return new BigInteger(1, bytes);
    }

    private static byte[] signatureAlgorithm() {
        return Der.sequence(Der.oid(ECDSA_WITH_SHA256)); // RFC 5758: the parameters are absent
    }

    /** O=loom-echo, CN=commonName: a Name is a SEQUENCE of one-attribute SETs, most general first. */
    private static byte[] name(String commonName) {
        return Der.sequence(
                Der.setOf(Der.sequence(Der.oid(ORGANIZATION), Der.utf8String("loom-echo"))),
                Der.setOf(Der.sequence(Der.oid(COMMON_NAME), Der.utf8String(commonName))));
    }

    private byte[][] extensions(PublicKey subjectKey) throws GeneralSecurityException {
        List<byte[]> extensions = new ArrayList<>();
        boolean ca = purpose == Purpose.CERTIFICATE_AUTHORITY;
        // cA TRUE with pathLen 0: it issues end-entity certificates only. A DER DEFAULT (cA FALSE) is omitted.
        extensions.add(extension(BASIC_CONSTRAINTS, true,
                ca ? Der.sequence(Der.bool(true), Der.integer(0)) : Der.sequence()));
        extensions.add(extension(KEY_USAGE, true,
                ca ? Der.namedBits(KEY_CERT_SIGN, CRL_SIGN) : Der.namedBits(DIGITAL_SIGNATURE)));
        if (!ca) {
            extensions.add(extension(EXTENDED_KEY_USAGE, false,
                    Der.sequence(Der.oid(purpose == Purpose.SERVER ? SERVER_AUTH : CLIENT_AUTH))));
        }
        if (!subjectAltNames.isEmpty()) {
            extensions.add(extension(SUBJECT_ALT_NAME, false, generalNames(subjectAltNames)));
        }
        extensions.add(extension(SUBJECT_KEY_IDENTIFIER, false, Der.octetString(keyIdentifier(subjectKey))));
        if (issuer != null) {
            // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
            extensions.add(extension(AUTHORITY_KEY_IDENTIFIER, false,
                    Der.sequence(Der.implicitPrimitive(0, keyIdentifier(issuer.certificate().getPublicKey())))));
        }
        return extensions.toArray(byte[][]::new);
    }

    /** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING (the DER value) }. */
    private static byte[] extension(String oid, boolean critical, byte[] value) {
        return critical
                ? Der.sequence(Der.oid(oid), Der.bool(true), Der.octetString(value))
                : Der.sequence(Der.oid(oid), Der.octetString(value));
    }

    /** GeneralNames: [2] dNSName (IA5String) or [7] iPAddress (4 or 16 bytes), implicitly tagged. */
    private static byte[] generalNames(List<String> names) {
        byte[][] generalNames = new byte[names.size()][];
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            generalNames[i] = isIpLiteral(name)
                    ? Der.implicitPrimitive(7, ipAddress(name))
                    : Der.implicitPrimitive(2, dnsName(name));
        }
        return Der.sequence(generalNames);
    }

    static boolean isIpLiteral(String name) {
        return name.indexOf(':') >= 0 || IPV4_LITERAL.matcher(name).matches();
    }

    private static byte[] ipAddress(String literal) {
        try {
            return InetAddress.getByName(literal).getAddress(); // a literal: parsed, never looked up
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + literal, e);
        }
    }

    private static byte[] dnsName(String name) {
        if (name.isEmpty() || !StandardCharsets.US_ASCII.newEncoder().canEncode(name)) {
            throw new IllegalArgumentException("a certificate's DNS name is ASCII (punycode for others): " + name);
        }
        return name.getBytes(StandardCharsets.US_ASCII);
    }

    /** RFC 5280 4.2.1.2, method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
    private static byte[] keyIdentifier(PublicKey key) throws GeneralSecurityException {
        DerReader.Element subjectPublicKey = DerReader.single(key.getEncoded()).children().get(1);
        byte[] bits = subjectPublicKey.value();
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        sha1.update(bits, 1, bits.length - 1); // past the unused-bits count
        return sha1.digest();
    }
}
