package io.dualpipe.core.line;

import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A request line goes to the child as {@code prefix + line.getBytes(charset) + LF}, whichever path encodes it. */
class RequestLineEncodingTest {
    private static final String[] LINES = {"", "x", "6 * 7", "abcdefghijklmnopqrstuvwxyz0123456789", "\u007f", "wörld",
        "héllo ✓", "\u0080", "a\ud83d\ude00b", "\ud800", "tab\there"};
    private static final Charset[] CHARSETS = {StandardCharsets.UTF_8, StandardCharsets.US_ASCII,
        StandardCharsets.ISO_8859_1, StandardCharsets.UTF_16LE, Charset.forName("windows-1252")};

    @Test
    void encodesAsGetBytesPlusLf() {
        for (Charset cs : CHARSETS) {
            for (String line : LINES) {
                for (String prefix : new String[] {"", "3f9a2c1d0e7b-12 "}) {
                    byte[] want = concat(prefix.getBytes(StandardCharsets.US_ASCII), line.getBytes(cs), new byte[] {'\n'});
                    byte[] got = RequestLine.encode(prefix, RequestLine.bytes(line, cs));
                    assertArrayEquals(want, got, cs + " '" + line + "' prefix '" + prefix + "'");
                }
            }
        }
    }

    @Test
    void theScratchPathEncodesAsciiLinesAlikeAndDeclinesTheRest() {
        byte[] scratch = new byte[RequestLine.SCRATCH_BYTES];
        for (String line : LINES) {
            for (String prefix : new String[] {"", "3f9a2c1d0e7b-12 "}) {
                int n = RequestLine.encodeAscii(prefix, line, scratch);
                boolean ascii = line.chars().allMatch(c -> c < 0x80);
                assertEquals(ascii ? prefix.length() + line.length() + 1 : -1, n, "'" + line + "'");
                if (ascii) {
                    byte[] want = RequestLine.encode(prefix, RequestLine.bytes(line, StandardCharsets.UTF_8));
                    assertArrayEquals(want, Arrays.copyOf(scratch, n));
                }
            }
        }
        String fits = "x".repeat(RequestLine.SCRATCH_BYTES - 1);
        assertEquals(RequestLine.SCRATCH_BYTES, RequestLine.encodeAscii("", fits, scratch));
        assertEquals(-1, RequestLine.encodeAscii("", fits + "x", scratch), "one byte too long: the array path");
    }

    private static byte[] concat(byte[]... parts) {
        byte[] out = new byte[0];
        for (byte[] p : parts) {
            int at = out.length;
            out = Arrays.copyOf(out, at + p.length);
            System.arraycopy(p, 0, out, at, p.length);
        }
        return out;
    }
}
