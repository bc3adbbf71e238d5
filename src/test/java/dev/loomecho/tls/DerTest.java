package dev.loomecho.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.time.Instant;
import java.util.HexFormat;
import org.ietf.jgss.Oid;
import org.junit.jupiter.api.Test;

class DerTest {

    private static final HexFormat HEX = HexFormat.of();

    @Test
    void lengthsAreShortBelow128AndMinimalLongFormAbove() {
        assertEquals("047f", HEX.formatHex(Der.octetString(new byte[127])).substring(0, 4));
        assertEquals("048180", HEX.formatHex(Der.octetString(new byte[128])).substring(0, 6));
        assertEquals("0481ff", HEX.formatHex(Der.octetString(new byte[255])).substring(0, 6));
        assertEquals("04820100", HEX.formatHex(Der.octetString(new byte[256])).substring(0, 8));
        assertEquals("0483010000", HEX.formatHex(Der.octetString(new byte[65_536])).substring(0, 10));
    }

    @Test
    void integersAreMinimalTwosComplement() {
        assertEquals("020100", HEX.formatHex(Der.integer(0)));
        assertEquals("02017f", HEX.formatHex(Der.integer(127)));
        assertEquals("02020080", HEX.formatHex(Der.integer(128)), "a leading zero keeps 128 positive");
        assertEquals("02020100", HEX.formatHex(Der.integer(256)));
        assertEquals("0201ff", HEX.formatHex(Der.integer(-1)));
        assertEquals("0211" + "00" + "ff".repeat(16), HEX.formatHex(Der.integer(BigInteger.TWO.pow(128).subtract(BigInteger.ONE))));
    }

    @Test
    void objectIdentifiersMatchTheJdksOwnEncoding() throws Exception {
        for (String oid : new String[] {"1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "2.5.29.17", "1.3.6.1.5.5.7.3.1",
                "1.2.840.113549.1.1.1", "1.3.101.112", "2.999.3", "1.2.3.4294967296", "0.39"}) {
            assertArrayEquals(new Oid(oid).getDER(), Der.oid(oid), oid);
        }
    }

    @Test
    void timesAreUtcTimeBefore2050AndGeneralizedTimeFrom2050() {
        assertEquals("170d" + HEX.formatHex("491231235959Z".getBytes()),
                HEX.formatHex(Der.time(Instant.parse("2049-12-31T23:59:59Z"))));
        assertEquals("180f" + HEX.formatHex("20500101000000Z".getBytes()),
                HEX.formatHex(Der.time(Instant.parse("2050-01-01T00:00:00Z"))));
        assertEquals("170d" + HEX.formatHex("500101000000Z".getBytes()),
                HEX.formatHex(Der.time(Instant.parse("1950-01-01T00:00:00.999Z"))), "to the second");
    }

    @Test
    void namedBitsDropTrailingZeroBitsAndCountTheUnusedOnes() {
        assertEquals("03020780", HEX.formatHex(Der.namedBits(0)), "digitalSignature");
        assertEquals("03020106", HEX.formatHex(Der.namedBits(5, 6)), "keyCertSign, cRLSign");
        assertEquals("0303070080", HEX.formatHex(Der.namedBits(8)), "decipherOnly, in a second byte");
    }

    @Test
    void booleansAndNullAreTheirDerForms() {
        assertEquals("0101ff", HEX.formatHex(Der.bool(true)));
        assertEquals("0500", HEX.formatHex(Der.nullValue()));
        assertEquals("3000", HEX.formatHex(Der.sequence()));
    }

    @Test
    void theReaderRefusesWhatIsNotDer() {
        assertThrows(IllegalArgumentException.class, () -> DerReader.single(HEX.parseHex("0480")), "indefinite length");
        assertThrows(IllegalArgumentException.class, () -> DerReader.single(HEX.parseHex("04817f" + "00".repeat(127))),
                "long form for a short length");
        assertThrows(IllegalArgumentException.class, () -> DerReader.single(HEX.parseHex("040300")), "truncated");
        assertThrows(IllegalArgumentException.class, () -> DerReader.single(HEX.parseHex("04000400")), "two elements");
        DerReader.Element sequence = DerReader.single(Der.sequence(Der.integer(1), Der.octetString(new byte[200])));
        assertEquals(2, sequence.children().size());
        assertEquals(200, sequence.children().get(1).value().length);
    }
}
