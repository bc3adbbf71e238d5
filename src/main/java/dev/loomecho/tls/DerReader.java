package dev.loomecho.tls;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the outline of a DER encoding: tag-length-value elements and the elements inside a constructed
 * one. Enough to find a key's algorithm in PKCS#8, a curve in SEC1 and the key bits of a public key;
 * the values themselves are decoded by the JDK. Anything not DER (indefinite or overlong lengths,
 * truncation, trailing bytes) is refused with {@link IllegalArgumentException}.
 */
final class DerReader {

    /** One element: its tag, the value bytes, and its whole encoding (to compare with {@link Der}'s output). */
    record Element(int tag, byte[] value, byte[] encoding) {

        /** The elements a constructed value (SEQUENCE, SET, explicit tag) holds, in order. */
        List<Element> children() {
            return DerReader.elements(value);
        }

        boolean is(byte[] expectedEncoding) {
            return Arrays.equals(encoding, expectedEncoding);
        }
    }

    private DerReader() {
    }

    /** The one element {@code der} must consist of. */
    static Element single(byte[] der) {
        List<Element> elements = elements(der);
        if (elements.size() != 1) {
            throw new IllegalArgumentException("expected one DER element, found " + elements.size());
        }
        return elements.get(0);
    }

    /** The consecutive elements that fill {@code der} exactly. */
    static List<Element> elements(byte[] der) {
        List<Element> elements = new ArrayList<>();
        int offset = 0;
        while (offset < der.length) {
            int start = offset;
            int tag = der[offset++] & 0xff;
            if ((tag & 0x1f) == 0x1f) {
                throw new IllegalArgumentException("multi-byte DER tags are not used here");
            }
            if (offset >= der.length) {
                throw new IllegalArgumentException("DER element without a length");
            }
            int first = der[offset++] & 0xff;
            int length;
            if (first < 0x80) {
                length = first;
            } else {
                int count = first & 0x7f;
                if (count == 0 || count > 3 || offset + count > der.length) {
                    throw new IllegalArgumentException("not a DER length (indefinite, too long or truncated)");
                }
                length = 0;
                for (int i = 0; i < count; i++) {
                    length = length << 8 | der[offset++] & 0xff;
                }
                if (length < 0x80 || length >>> (8 * (count - 1)) == 0) {
                    throw new IllegalArgumentException("not a DER length: not minimal");
                }
            }
            if (length > der.length - offset) {
                throw new IllegalArgumentException("DER element longer than its data");
            }
            byte[] value = Arrays.copyOfRange(der, offset, offset + length);
            offset += length;
            elements.add(new Element(tag, value, Arrays.copyOfRange(der, start, offset)));
        }
        return elements;
    }
}
