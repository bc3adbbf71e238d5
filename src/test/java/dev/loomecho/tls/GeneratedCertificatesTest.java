package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The throwaway PKI's certificates, read back by the JDK: fields, extensions, PKIX validation. */
class GeneratedCertificatesTest {

    private static final ServerTls TLS = ServerTls.create(TlsConfig.defaults());

    @Test
    void everyCertificateIsAnEcdsaP256KeySignedWithSha256WithEcdsa() {
        for (X509Certificate certificate : List.of(TLS.caCertificate(), served(ServedCertificate.VALID),
                served(ServedCertificate.EXPIRED), served(ServedCertificate.WRONG_HOST),
                TLS.issueClientCertificate("alice").certificate())) {
            assertEquals(3, certificate.getVersion());
            assertEquals("SHA256withECDSA", certificate.getSigAlgName());
            ECPublicKey key = assertInstanceOf(ECPublicKey.class, certificate.getPublicKey());
            assertEquals(256, key.getParams().getCurve().getField().getFieldSize());
            assertTrue(key.getParams().toString().contains("secp256r1"), key.getParams().toString());
            assertTrue(certificate.getSerialNumber().signum() > 0);
        }
    }

    @Test
    void theServerCertificateNamesLocalhostAndBothLoopbackAddresses() throws Exception {
        X509Certificate server = served(ServedCertificate.VALID);
        assertEquals(Set.of("2:localhost", "7:127.0.0.1", "7:0:0:0:0:0:0:0:1"), altNames(server));
        assertEquals("CN=localhost,O=loom-echo", server.getSubjectX500Principal().getName());
        assertEquals(List.of("1.3.6.1.5.5.7.3.1"), server.getExtendedKeyUsage(), "serverAuth");
        assertEquals(-1, server.getBasicConstraints(), "not a CA");
        assertArrayEquals(digitalSignatureOnly(), server.getKeyUsage());
        assertEquals(Set.of("2.5.29.15", "2.5.29.19"), server.getCriticalExtensionOIDs());
    }

    @Test
    void theCaSignsTheOthersAndMayIssueOnlyEndEntityCertificates() throws Exception {
        X509Certificate ca = TLS.caCertificate();
        assertEquals(0, ca.getBasicConstraints(), "a CA with path length 0");
        assertEquals(ca.getSubjectX500Principal(), ca.getIssuerX500Principal());
        ca.verify(ca.getPublicKey());
        boolean[] usage = ca.getKeyUsage();
        assertTrue(usage[5] && usage[6], "keyCertSign and cRLSign");
        for (ServedCertificate which : ServedCertificate.values()) {
            X509Certificate leaf = served(which);
            leaf.verify(ca.getPublicKey());
            assertEquals(ca.getSubjectX500Principal(), leaf.getIssuerX500Principal());
            // The leaf's authorityKeyIdentifier is the CA's subjectKeyIdentifier (both wrapped the same way past 4 bytes).
            byte[] ski = ca.getExtensionValue("2.5.29.14");
            byte[] aki = leaf.getExtensionValue("2.5.29.35");
            assertArrayEquals(Arrays.copyOfRange(ski, 4, ski.length), Arrays.copyOfRange(aki, 6, aki.length));
        }
    }

    @Test
    void certificatesAreValidFromAnHourAgoForADay() {
        Instant now = Instant.now();
        for (X509Certificate certificate : List.of(TLS.caCertificate(), served(ServedCertificate.VALID),
                TLS.issueClientCertificate("bob").certificate())) {
            Duration sinceStart = Duration.between(certificate.getNotBefore().toInstant(), now);
            Duration untilEnd = Duration.between(now, certificate.getNotAfter().toInstant());
            assertTrue(sinceStart.compareTo(Duration.ofMinutes(59)) > 0 && sinceStart.compareTo(Duration.ofMinutes(62)) < 0,
                    "began " + sinceStart + " ago");
            assertTrue(untilEnd.compareTo(Duration.ofHours(23)) > 0 && untilEnd.compareTo(Duration.ofHours(24)) <= 0,
                    "ends in " + untilEnd);
        }
    }

    @Test
    void thePkixTrustManagerTrustingTheCaAcceptsTheServerCertificate() throws Exception {
        TLS.trustManager().checkServerTrusted(new X509Certificate[] {served(ServedCertificate.VALID)}, "ECDHE_ECDSA");
        TLS.trustManager().checkServerTrusted(new X509Certificate[] {served(ServedCertificate.WRONG_HOST)}, "ECDHE_ECDSA");
    }

    @Test
    void aTrustManagerOfAnotherCaRefusesIt() {
        ServerTls other = ServerTls.create(TlsConfig.defaults());
        assertNotEquals(other.caCertificate(), TLS.caCertificate());
        assertThrows(CertificateException.class, () -> other.trustManager().checkServerTrusted(
                new X509Certificate[] {served(ServedCertificate.VALID)}, "ECDHE_ECDSA"));
    }

    @Test
    void theExpiredCertificateFailsPkixValidationBecauseItExpired() {
        X509Certificate expired = served(ServedCertificate.EXPIRED);
        assertTrue(expired.getNotAfter().toInstant().isBefore(Instant.now().minus(Duration.ofHours(23))));
        assertEquals(altNames(served(ServedCertificate.VALID)), altNames(expired), "the same names: only the dates are wrong");
        CertificateException refused = assertThrows(CertificateException.class,
                () -> TLS.trustManager().checkServerTrusted(new X509Certificate[] {expired}, "ECDHE_ECDSA"));
        CertPathValidatorException validation = cause(refused, CertPathValidatorException.class);
        assertEquals(CertPathValidatorException.BasicReason.EXPIRED, validation.getReason());
        cause(refused, CertificateExpiredException.class);
    }

    @Test
    void theWrongHostCertificateNamesOnlyAnInvalidHost() {
        assertEquals(Set.of("2:" + ServerTls.WRONG_HOST), altNames(served(ServedCertificate.WRONG_HOST)));
    }

    @Test
    void aClientCertificateIsForClientAuthenticationAndTheCaTrustsIt() throws Exception {
        HeldCertificate alice = TLS.issueClientCertificate("alice");
        assertEquals("CN=alice,O=loom-echo", alice.certificate().getSubjectX500Principal().getName());
        assertEquals(List.of("1.3.6.1.5.5.7.3.2"), alice.certificate().getExtendedKeyUsage(), "clientAuth");
        assertArrayEquals(digitalSignatureOnly(), alice.certificate().getKeyUsage());
        TLS.trustManager().checkClientTrusted(new X509Certificate[] {alice.certificate()}, "EC");
        assertNotEquals(alice.certificate().getPublicKey(), TLS.issueClientCertificate("alice").certificate().getPublicKey(),
                "each certificate has a key of its own");
    }

    @Test
    void aServerCertificateIsNotAcceptedAsAClientOne() {
        assertThrows(CertificateException.class, () -> TLS.trustManager().checkClientTrusted(
                new X509Certificate[] {served(ServedCertificate.VALID)}, "EC"), "extendedKeyUsage is serverAuth only");
    }

    @Test
    void theKeyLeavesNoTraceInToString() {
        HeldCertificate held = TLS.issueClientCertificate("carol");
        assertFalse(held.toString().contains(held.privateKeyPem().lines().skip(1).findFirst().orElseThrow()));
        assertTrue(held.toString().contains("(hidden)"), held.toString());
    }

    private static X509Certificate served(ServedCertificate which) {
        return TLS.servedCertificate(which);
    }

    private static boolean[] digitalSignatureOnly() {
        return new boolean[] {true, false, false, false, false, false, false, false, false};
    }

    static Set<String> altNames(X509Certificate certificate) {
        try {
            return certificate.getSubjectAlternativeNames().stream()
                    .map(name -> name.get(0) + ":" + name.get(1)).collect(Collectors.toSet());
        } catch (java.security.cert.CertificateParsingException e) {
            throw new AssertionError(e);
        }
    }

    static <T extends Throwable> T cause(Throwable thrown, Class<T> type) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in the causes of " + thrown, thrown);
    }
}
