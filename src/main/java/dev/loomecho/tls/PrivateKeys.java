package dev.loomecho.tls;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.Map;

/**
 * Reads a private key from PEM in the three unencrypted forms openssl writes: PKCS#8
 * ({@code BEGIN PRIVATE KEY}, what {@code openssl genpkey} and {@code pkey} write), SEC1
 * ({@code BEGIN EC PRIVATE KEY}, {@code openssl ecparam -genkey}) and PKCS#1 ({@code BEGIN RSA PRIVATE
 * KEY}, {@code openssl genrsa} before 3.0). The JDK reads PKCS#8 only, so the other two are wrapped in
 * a PKCS#8 PrivateKeyInfo first (RFC 5208, RFC 5915); the key bytes are never decoded here.
 */
final class PrivateKeys {

    private static final byte[] EC_PUBLIC_KEY = Der.oid("1.2.840.10045.2.1");
    private static final byte[] RSA_ENCRYPTION = Der.oid("1.2.840.113549.1.1.1");
    /** The JDK's key factory for each PKCS#8 algorithm this server can serve with. */
    private static final Map<String, String> KEY_FACTORIES = Map.of(
            "1.2.840.10045.2.1", "EC",
            "1.2.840.113549.1.1.1", "RSA",
            "1.2.840.113549.1.1.10", "RSASSA-PSS",
            "1.3.101.112", "Ed25519",
            "1.3.101.113", "Ed448");

    private PrivateKeys() {
    }

    /** The one private key among {@code blocks} (other blocks, such as certificates, are skipped). */
    static PrivateKey fromPem(List<Pem.Block> blocks) {
        List<Pem.Block> keys = blocks.stream().filter(block -> block.label().endsWith("PRIVATE KEY")).toList();
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no PEM private key (-----BEGIN PRIVATE KEY-----) in it");
        }
        if (keys.size() > 1) {
            throw new IllegalArgumentException(keys.size() + " private keys in it; give a file with one");
        }
        Pem.Block key = keys.get(0);
        byte[] pkcs8 = switch (key.label()) {
            case "PRIVATE KEY" -> key.der();
            case "EC PRIVATE KEY" -> fromSec1(key.der());
            case "RSA PRIVATE KEY" -> Der.sequence(Der.integer(0), Der.sequence(RSA_ENCRYPTION, Der.nullValue()),
                    Der.octetString(key.der()));
            case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException("the key is encrypted (PKCS#8 "
                    + "with a password); decrypt it (openssl pkey -in KEY -out PLAIN) or use a PKCS#12 keystore");
            default -> throw new IllegalArgumentException("a " + key.label() + " is not read; convert it to "
                    + "PKCS#8 (openssl pkey -in KEY -out PLAIN)");
        };
        return fromPkcs8(pkcs8);
    }

    /**
     * SEC1's ECPrivateKey names its curve in {@code [0] parameters}; PKCS#8 names it in the algorithm
     * identifier instead, and keeps the whole ECPrivateKey as the key.
     */
    private static byte[] fromSec1(byte[] ecPrivateKey) {
        for (DerReader.Element element : DerReader.single(ecPrivateKey).children()) {
            if (element.tag() == 0xa0) {
                byte[] curve = element.children().get(0).encoding();
                return Der.sequence(Der.integer(0), Der.sequence(EC_PUBLIC_KEY, curve), Der.octetString(ecPrivateKey));
            }
        }
        throw new IllegalArgumentException("the EC PRIVATE KEY does not name its curve; write it as PKCS#8 "
                + "(openssl pkey -in KEY -out PLAIN)");
    }

    static PrivateKey fromPkcs8(byte[] pkcs8) {
        String algorithm = algorithmOf(pkcs8);
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the " + algorithm + " key does not parse: " + e.getMessage(), e);
        }
    }

    /** PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier { algorithm OID, ... }, privateKey, ... }. */
    private static String algorithmOf(byte[] pkcs8) {
        try {
            List<DerReader.Element> info = DerReader.single(pkcs8).children();
            DerReader.Element oid = info.get(1).children().get(0);
            for (Map.Entry<String, String> known : KEY_FACTORIES.entrySet()) {
                if (oid.is(Der.oid(known.getKey()))) {
                    return known.getValue();
                }
            }
            throw new IllegalArgumentException("the key's algorithm is none of EC, RSA, RSASSA-PSS, Ed25519, Ed448");
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("not a PKCS#8 PrivateKeyInfo", e);
        }
    }
}
