package io.dualpipe.core.codec;

import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FramesTest {

    /** The worked examples of docs/wire-format.md, as bytes and as what produces them. */
    private static final Map<String, String> EXAMPLES = Map.of(
            "02 01 00 00 00 2a 00 00 00 04 70 69 6e 67", frame(0x02, Frames.FLAG_REQUEST, 42, "ping"),
            "02 02 00 00 00 2a 00 00 00 04 70 6f 6e 67", frame(0x02, Frames.FLAG_REPLY, 42, "pong"),
            "02 06 00 00 00 2b 00 00 00 0a 6e 6f 20 73 75 63 68 20 6f 70",
            frame(0x02, Frames.FLAG_REPLY | Frames.FLAG_ERROR, 43, "no such op"),
            "03 00 00 00 00 00 00 00 00 07 7b 22 61 22 3a 31 7d", frame(0x03, 0, 0, "{\"a\":1}"));

    @Test
    void workedExamplesAreWhatTheEncoderWrites() {
        EXAMPLES.forEach((expected, actual) -> assertEquals(expected, actual));
    }

    @Test
    void docsShowTheWorkedExamples() throws IOException {
        Path doc = Path.of("..", "docs", "wire-format.md"); // surefire runs in core/
        assumeTrue(Files.exists(doc), "docs not found from " + Path.of("").toAbsolutePath());
        String text = Files.readString(doc);
        for (String hex : EXAMPLES.keySet()) {
            assertTrue(text.contains(hex), "docs/wire-format.md lacks " + hex);
        }
    }

    @Test
    void bigEndianWhateverTheBufferOrder() {
        ByteBuffer dst = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).position(1);
        Frames.writeHeader(dst, 0xff, Frames.KNOWN_FLAGS, 0xfffffffe, 0x01020304);
        assertEquals(11, dst.position());
        assertEquals("00 ff 07 ff ff ff fe 01 02 03 04 00", hex(dst.array()));
    }

    @Test
    void rejectsBadArgumentsWithoutWriting() {
        ByteBuffer dst = ByteBuffer.allocate(10);
        assertEquals("type not in 0..255: 256", assertThrows(InvalidArgumentException.class,
                () -> Frames.writeHeader(dst, 256, 0, 0, 0)).getMessage());
        assertEquals("type not in 0..255: -1", assertThrows(InvalidArgumentException.class,
                () -> Frames.writeHeader(dst, -1, 0, 0, 0)).getMessage());
        assertEquals("flags 0x09 have unknown bits 0x08 (known: 0x07)", assertThrows(InvalidArgumentException.class,
                () -> Frames.writeHeader(dst, 1, 0x09, 0, 0)).getMessage());
        assertEquals("length < 0: -1", assertThrows(InvalidArgumentException.class,
                () -> Frames.writeHeader(dst, 1, 0, 0, -1)).getMessage());
        ByteBuffer small = ByteBuffer.allocate(9);
        assertEquals("dst.remaining() < 10: 9", assertThrows(InvalidArgumentException.class,
                () -> Frames.writeHeader(small, 1, 0, 0, 0)).getMessage());
        assertEquals(0, dst.position());
        assertEquals(0, small.position());
    }

    static String frame(int type, int flags, int requestId, String body) {
        byte[] bytes = body.getBytes(UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(Frames.HEADER_SIZE + bytes.length);
        Frames.writeHeader(buf, type, flags, requestId, bytes.length);
        buf.put(bytes);
        return hex(buf.array());
    }

    static String hex(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes);
    }
}
