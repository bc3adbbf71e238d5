package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TlsConfigTest {

    @Test
    void theDefaultsGenerateACertificateOnAnyPortWithTheJdksProtocolsAndNoAlpn() {
        TlsConfig defaults = TlsConfig.defaults();
        assertEquals(0, defaults.port());
        assertEquals(Optional.empty(), defaults.key());
        assertEquals(ClientAuth.NONE, defaults.clientAuth());
        assertEquals(List.of(), defaults.clientCa());
        assertEquals(List.of(), defaults.protocols());
        assertEquals(List.of(), defaults.alpn());
    }

    @Test
    void refusesAPortOutOfRange() {
        assertRefused("tls-port must be 0..65535, was 65536", () -> TlsConfig.builder().port(65_536).build());
        assertRefused("tls-port must be 0..65535, was -1", () -> TlsConfig.builder().port(-1).build());
    }

    @Test
    void refusesAProtocolTheJdkDoesNotKnowNamingTheOnesItKnows() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.builder().protocols("TLSv1.4").build());
        assertTrue(e.getMessage().startsWith("tls-protocols: TLSv1.4 is not a TLS version this JDK knows; it knows "), e.getMessage());
        assertTrue(e.getMessage().contains("TLSv1.3, TLSv1.2"), e.getMessage());
    }

    @Test
    void refusesAProtocolTheJdkHasDisabled() {
        assertRefused("tls-protocols: SSLv3 is disabled in this JDK (security property jdk.tls.disabledAlgorithms); "
                + "no handshake could use it", () -> TlsConfig.builder().protocols("TLSv1.2", "SSLv3").build());
    }

    @Test
    void refusesAlpnNamesThatAreEmptyTooLongOrRepeated() {
        assertRefused("tls-alpn: a protocol name is 1 to 255 printable ASCII characters without commas, was \"\"",
                () -> TlsConfig.builder().alpn("h2", "").build());
        assertThrows(IllegalArgumentException.class, () -> TlsConfig.builder().alpn("x".repeat(256)).build());
        assertThrows(IllegalArgumentException.class, () -> TlsConfig.builder().alpn("h 2").build());
        assertRefused("tls-alpn lists a value twice: h2,http/1.1,h2", () -> TlsConfig.builder().alpn("h2", "http/1.1", "h2").build());
        assertEquals(List.of("x".repeat(255)), TlsConfig.builder().alpn("x".repeat(255)).build().alpn());
    }

    @Test
    void refusesAClientCaWithoutClientAuthentication() {
        ServerTls other = ServerTls.create(TlsConfig.defaults());
        assertRefused("tls-client-ca is used only with --tls-client-auth want or need",
                () -> TlsConfig.builder().clientCa(List.of(other.caCertificate())).build());
        assertEquals(1, TlsConfig.builder().clientAuth(ClientAuth.WANT).clientCa(List.of(other.caCertificate())).build()
                .clientCa().size());
    }

    @Test
    void aClientCaFileThatIsMissingIsRefusedByName() {
        Path missing = Path.of("no-such-ca.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.builder().clientCa(missing));
        assertTrue(e.getMessage().startsWith("no-such-ca.pem: cannot be read"), e.getMessage());
    }

    private static void assertRefused(String message, Executable build) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, build).getMessage());
    }
}
