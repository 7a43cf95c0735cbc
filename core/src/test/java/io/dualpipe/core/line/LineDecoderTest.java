package io.dualpipe.core.line;

import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineDecoderTest {
    private static final String TOO_LONG = "<too long>";
    private static final int SEEDS = 300;

    /** How a test hands bytes to the decoder; each reuses its buffer between chunks, as a loop does. */
    enum Kind { HEAP, HEAP_OFFSET, READ_ONLY_HEAP, DIRECT }

    @Test
    void lf() {
        assertDecodes("a\nbb\nccc\n", "a", "bb", "ccc");
    }

    @Test
    void crlf() {
        assertDecodes("a\r\nbb\r\nccc\r\n", "a", "bb", "ccc");
    }

    @Test
    void mixedTerminators() {
        assertDecodes("a\nb\r\nc\n\r\n\nd\r\n", "a", "b", "c", "", "", "d");
    }

    @Test
    void emptyLinesAndEmptyInput() {
        assertDecodes("\n\n\r\n\n", "", "", "", "");
        assertDecodes("");
    }

    @Test
    void loneCrIsKept() {
        assertDecodes("a\rb\n", "a\rb");
        assertDecodes("a\r\r\n", "a\r");
        assertDecodes("\r\r\n\rx\r\n", "\r", "\rx");
        assertDecodes("\r", "\r");
        assertDecodes("a\r", "a\r");
    }

    @Test
    void multiByteCharactersSplitAnywhere() {
        // 2-, 3- and 4-byte sequences; random and byte-at-a-time feeding cut through each of them.
        assertDecodes("héllo wörld\n€ 日本語\r\n𝄞𝄞\nend é", "héllo wörld", "€ 日本語", "𝄞𝄞", "end é");
    }

    @Test
    void malformedBytesAreReplaced() {
        byte[] input = bytes(0x61, 0xff, 0x62, '\n', 0xc3, '\n', 0xe2, 0x82, '\r', '\n', 0x80);
        assertDecodes(input, 1024, "a\uFFFDb", "\uFFFD", "\uFFFD", "\uFFFD");
    }

    @Test
    void lastLineWithoutNewlineOnlyAtEndOfInput() {
        LineDecoder decoder = new LineDecoder();
        List<String> lines = new ArrayList<>();
        decoder.decode(heap("a\nb"), lines::add);
        assertEquals(List.of("a"), lines);
        assertEquals(1, decoder.bufferedBytes());
        decoder.endOfInput(lines::add);
        assertEquals(List.of("a", "b"), lines);
        decoder.endOfInput(lines::add);
        assertEquals(List.of("a", "b"), lines, "nothing pending any more");
    }

    @Test
    void lengthLimitExcludesTheTerminator() {
        assertDecodes(ascii("12345678\n12345678\r\n"), 8, "12345678", "12345678");
        assertDecodes(ascii("123456789\nok\n"), 8, TOO_LONG, "ok");
        assertDecodes(ascii("12345678\rx\nok\n"), 8, TOO_LONG, "ok");
        // At end of input there is no LF, so a trailing CR is content.
        assertDecodes(ascii("12345678\r"), 8, TOO_LONG);
        assertDecodes(ascii("1234567\r"), 8, "1234567\r");
    }

    @Test
    void overLongLineIsReportedOnceAndFollowingLinesSurvive() {
        String input = "short\n" + "x".repeat(100) + "\nnext\r\n" + "y".repeat(9) + "\r\n\nafter";
        assertDecodes(ascii(input), 8, "short", TOO_LONG, "next", TOO_LONG, "", "after");
    }

    @Test
    void overLongLineUnterminatedAtEndOfInputIsReportedOnce() {
        assertDecodes(ascii("ok\n" + "z".repeat(50)), 8, "ok", TOO_LONG);
    }

    @Test
    void newlineOfOverLongLineManyChunksLater() {
        int max = 16;
        LineDecoder decoder = new LineDecoder(max);
        Recorder out = new Recorder();
        decoder.decode(heap("first\n"), out);
        byte[] junk = ascii("j".repeat(7));
        for (int i = 0; i < 10_000; i++) {
            decoder.decode(ByteBuffer.wrap(junk), out);
            assertTrue(decoder.bufferCapacity() <= max + 1, "held " + decoder.bufferCapacity());
        }
        decoder.decode(heap("jjj\r\nsecond\nthi"), out);
        decoder.decode(heap("rd\n"), out);
        decoder.endOfInput(out);
        assertEquals(List.of("first", TOO_LONG, "second", "third"), out.events);
        assertEquals(1, out.tooLong.size());
        assertEquals(max, out.tooLong.get(0).maxLineLength());
        assertEquals("line length > maxLineLength 16: discarding it through the next newline",
                out.tooLong.get(0).getMessage());
    }

    @Test
    void defaultLineTooLongRethrowsAndDecoderStaysUsable() {
        LineDecoder decoder = new LineDecoder(4);
        List<String> lines = new ArrayList<>();
        ByteBuffer chunk = heap("ab\ntoo long\ncd\n");
        assertThrows(LineTooLongException.class, () -> decoder.decode(chunk, lines::add));
        assertEquals(List.of("ab"), lines);
        assertEquals("cd\n", UTF_8.decode(chunk.duplicate()).toString(), "rest left in chunk");
        decoder.decode(chunk, lines::add);
        assertEquals(List.of("ab", "cd"), lines);
    }

    @Test
    void completeLinesInHeapChunksAreNotCopied() {
        LineDecoder decoder = new LineDecoder();
        decoder.decode(heap("one\ntwo\r\nthree\n"), new Recorder());
        assertEquals(0, decoder.bufferCapacity());
    }

    /** A decoder per child: one that sees whole short lines in the loop's direct buffer keeps no array of its own. */
    @Test
    void shortLinesInDirectChunksHoldNoArray() {
        LineDecoder decoder = new LineDecoder();
        Recorder out = new Recorder();
        ByteBuffer chunk = ByteBuffer.allocateDirect(64).put(ascii("one\ntwo\r\n")).flip();
        decoder.decode(chunk, out);
        assertEquals(List.of("one", "two"), out.events);
        assertEquals(0, decoder.bufferCapacity());
        byte[] longLine = new byte[LineDecoder.SHARED_SCRATCH + 1];
        java.util.Arrays.fill(longLine, (byte) 'x');
        ByteBuffer big = ByteBuffer.allocateDirect(longLine.length + 1).put(longLine).put((byte) '\n').flip();
        decoder.decode(big, out);
        assertEquals(new String(longLine, UTF_8), out.events.get(2));
    }

    @Test
    void consumesTheWholeChunk() {
        LineDecoder decoder = new LineDecoder();
        ByteBuffer chunk = ByteBuffer.allocateDirect(16).put(ascii("a\nb\nrest")).flip();
        decoder.decode(chunk, new Recorder());
        assertEquals(chunk.limit(), chunk.position());
    }

    @Test
    void otherAsciiCompatibleCharset() {
        LineDecoder decoder = new LineDecoder(100, StandardCharsets.ISO_8859_1);
        Recorder out = new Recorder();
        decoder.decode(ByteBuffer.wrap(bytes('c', 'a', 'f', 0xe9, '\n')), out);
        assertEquals(List.of("café"), out.events);
    }

    // --- a delimiter other than LF ----------------------------------------------------------

    @Test
    void nulDelimiterKeepsCrAndLfAsContent() {
        assertDecodes(bytes('a', 0, 'b', 'b', 0, 0, 'c', '\r', '\n', 0, 'x', '\r', 0, '\n'), 1024, (byte) 0,
                "a", "bb", "", "c\r\n", "x\r", "\n");
    }

    @Test
    void semicolonDelimiterWithMultiByteCharactersSplitAnywhere() {
        // 2-, 3- and 4-byte sequences right before and after the delimiter; the random and
        // byte-at-a-time feeds cut through each of them.
        assertDecodes("héllo;€ 日本語;𝄞\n𝄞;;é;end é".getBytes(UTF_8), 1024, (byte) ';',
                "héllo", "€ 日本語", "𝄞\n𝄞", "", "é", "end é");
    }

    @Test
    void otherDelimiterLastRecordOnlyAtEndOfInput() {
        LineDecoder decoder = new LineDecoder(100, UTF_8, (byte) 0);
        List<String> lines = new ArrayList<>();
        decoder.decode(ByteBuffer.wrap(bytes('a', 0, 'b', '\n')), lines::add);
        assertEquals(List.of("a"), lines);
        assertEquals(2, decoder.bufferedBytes());
        decoder.endOfInput(lines::add);
        assertEquals(List.of("a", "b\n"), lines);
    }

    @Test
    void otherDelimiterLengthLimitCountsEveryByteButTheDelimiter() {
        assertDecodes(ascii("12345678;123456789;ok;"), 8, (byte) ';', "12345678", TOO_LONG, "ok");
        // no CRLF slack: a CR is an ordinary byte of the record
        assertDecodes(ascii("1234567\r;x"), 8, (byte) ';', "1234567\r", "x");
        assertDecodes(ascii("12345678\r;x"), 8, (byte) ';', TOO_LONG, "x");
        assertDecodes(ascii("12345678\n;x"), 8, (byte) ';', TOO_LONG, "x");
        assertDecodes(ascii("ok;" + "z".repeat(50)), 8, (byte) ';', "ok", TOO_LONG);
        assertDecodes(ascii("a;" + "y".repeat(40) + "\n\r\n;b;"), 8, (byte) ';', "a", TOO_LONG, "b");
    }

    @Test
    void otherDelimiterOverLongMessageNamesIt() {
        LineDecoder decoder = new LineDecoder(4, UTF_8, (byte) 0);
        Recorder out = new Recorder();
        decoder.decode(heap("toolong"), out);
        assertEquals("line length > maxLineLength 4: discarding it through the next delimiter 0x00",
                out.tooLong.get(0).getMessage());
    }

    @Test
    void lfDelimiterIsTheDefaultBehaviour() {
        assertDecodes(ascii("a\r\nb\nc\rd\n\r"), 1024, LineDecoder.LF, "a", "b", "c\rd", "\r");
        assertEquals(LineDecoder.LF, new LineDecoder().delimiter());
        assertEquals((byte) 0, new LineDecoder(10, UTF_8, (byte) 0).delimiter());
    }

    @Test
    void otherDelimiterInIso88591() {
        LineDecoder decoder = new LineDecoder(100, StandardCharsets.ISO_8859_1, (byte) ';');
        Recorder out = new Recorder();
        decoder.decode(ByteBuffer.wrap(bytes('c', 'a', 'f', 0xe9, ';')), out);
        assertEquals(List.of("café"), out.events);
    }

    @Test
    void rejectsNonAsciiDelimiter() {
        assertEquals("delimiter must be an ASCII byte (0x00 to 0x7f): 0x80",
                assertThrows(InvalidArgumentException.class,
                        () -> new LineDecoder(10, UTF_8, (byte) 0x80)).getMessage());
        assertEquals("delimiter must be an ASCII byte (0x00 to 0x7f): 0xff",
                assertThrows(InvalidArgumentException.class,
                        () -> new LineDecoder(10, UTF_8, (byte) -1)).getMessage());
    }

    @Test
    void rejectsBadArguments() {
        assertEquals("maxLineLength <= 0: -3",
                assertThrows(InvalidArgumentException.class, () -> new LineDecoder(-3)).getMessage());
        assertEquals("maxLineLength <= 0: 0",
                assertThrows(InvalidArgumentException.class, () -> new LineDecoder(0)).getMessage());
        assertEquals("maxLineLength > 2147483638: 2147483647",
                assertThrows(InvalidArgumentException.class,
                        () -> new LineDecoder(Integer.MAX_VALUE)).getMessage());
        assertEquals("charset UTF-16 does not encode CR LF as the bytes 0x0d 0x0a",
                assertThrows(InvalidArgumentException.class,
                        () -> new LineDecoder(10, StandardCharsets.UTF_16)).getMessage());
    }

    // --- harness ---------------------------------------------------------------------------

    private static void assertDecodes(String input, String... expected) {
        assertDecodes(input.getBytes(UTF_8), 1024, expected);
    }

    /** Feeds input whole, a byte at a time and in many random splits, in every kind of buffer. */
    private static void assertDecodes(byte[] input, int max, String... expected) {
        assertDecodes(input, max, LineDecoder.LF, expected);
    }

    /** As above, for a decoder whose lines end at {@code delimiter}. */
    private static void assertDecodes(byte[] input, int max, byte delimiter, String... expected) {
        List<String> want = List.of(expected);
        for (Kind kind : Kind.values()) {
            assertEquals(want, feed(input, List.of(input.length), kind, max, delimiter), kind + " whole");
            List<Integer> ones = new ArrayList<>();
            for (int i = 0; i < input.length; i++) {
                ones.add(1);
            }
            assertEquals(want, feed(input, ones, kind, max, delimiter), kind + " byte at a time");
            for (int seed = 0; seed < SEEDS; seed++) {
                List<Integer> sizes = randomSplit(input.length, new Random(seed));
                assertEquals(want, feed(input, sizes, kind, max, delimiter), kind + " seed " + seed + " " + sizes);
            }
        }
    }

    private static List<Integer> randomSplit(int length, Random random) {
        List<Integer> sizes = new ArrayList<>();
        int bound = random.nextBoolean() ? 4 : Math.max(1, length);
        for (int left = length; left > 0; ) {
            int n = Math.min(left, 1 + random.nextInt(bound));
            sizes.add(n);
            left -= n;
        }
        return sizes;
    }

    private static List<String> feed(byte[] input, List<Integer> sizes, Kind kind, int max, byte delimiter) {
        LineDecoder decoder = new LineDecoder(max, UTF_8, delimiter);
        Recorder out = new Recorder();
        int chunkCapacity = Math.max(1, input.length);
        // One buffer, overwritten for every chunk: a decoder that kept a reference would see junk.
        ByteBuffer direct = ByteBuffer.allocateDirect(chunkCapacity);
        byte[] backing = new byte[chunkCapacity + 16];
        int offset = 0;
        for (int size : sizes) {
            ByteBuffer chunk;
            switch (kind) {
                case DIRECT -> chunk = direct.clear().put(input, offset, size).flip();
                case HEAP -> chunk = ByteBuffer.wrap(fill(backing, input, offset, size, 0), 0, size);
                case HEAP_OFFSET ->
                        // Non-zero arrayOffset and position.
                        chunk = ByteBuffer.wrap(fill(backing, input, offset, size, 7), 3, size + 4)
                                .slice().position(4);
                case READ_ONLY_HEAP -> chunk = ByteBuffer.wrap(fill(backing, input, offset, size, 0), 0, size)
                        .asReadOnlyBuffer();
                default -> throw new AssertionError(kind);
            }
            decoder.decode(chunk, out);
            assertEquals(0, chunk.remaining(), "chunk consumed");
            assertTrue(decoder.bufferCapacity() <= max + 1, "held " + decoder.bufferCapacity());
            offset += size;
        }
        decoder.endOfInput(out);
        assertEquals(0, decoder.bufferedBytes());
        assertEquals(out.events.stream().filter(TOO_LONG::equals).count(), out.tooLong.size());
        return out.events;
    }

    private static byte[] fill(byte[] backing, byte[] input, int from, int size, int at) {
        // Junk that would show up as extra lines, for LF and for the other delimiters tested.
        for (int i = 0; i < backing.length; i++) {
            backing[i] = (byte) "\n;\0".charAt(i % 3);
        }
        System.arraycopy(input, from, backing, at, size);
        return backing;
    }

    private static ByteBuffer heap(String s) {
        return ByteBuffer.wrap(s.getBytes(UTF_8));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] bytes(int... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int v : values) {
            out.write(v);
        }
        return out.toByteArray();
    }

    private static final class Recorder implements LineListener {
        final List<String> events = new ArrayList<>();
        final List<LineTooLongException> tooLong = new ArrayList<>();

        @Override
        public void onLine(String line) {
            events.add(line);
        }

        @Override
        public void lineTooLong(LineTooLongException e) {
            events.add(TOO_LONG);
            tooLong.add(e);
        }
    }
}
