package io.dualpipe.core.codec;

import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FrameDecoderTest {
    private static final int SEEDS = 40;

    record Frame(int type, int flags, int requestId, byte[] body) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Frame f && f.type == type && f.flags == flags && f.requestId == requestId
                    && Arrays.equals(f.body, body);
        }

        @Override
        public int hashCode() {
            return type ^ Arrays.hashCode(body);
        }

        @Override
        public String toString() {
            return "Frame[" + type + "," + flags + "," + requestId + ", " + body.length + " bytes]";
        }
    }

    /**
     * How a test hands bytes to the decoder; each reuses one buffer for every chunk, as a loop does.
     * The little-endian ones: the wire is big-endian whatever order the caller's buffer is set to.
     */
    enum Kind { HEAP, HEAP_OFFSET, DIRECT, DIRECT_LITTLE_ENDIAN, HEAP_LITTLE_ENDIAN }

    // --- splitting ----------------------------------------------------------------------------

    @Test
    void manyFramesWholeByteAtATimeAndRandomSplits() {
        List<Frame> frames = randomFrames(new Random(42), 400);
        byte[] stream = encode(frames);
        for (Kind kind : Kind.values()) {
            assertEquals(frames, feed(stream, List.of(stream.length), kind), kind + " whole");
            assertEquals(frames, feed(stream, ones(stream.length), kind), kind + " byte at a time");
            for (int seed = 0; seed < SEEDS; seed++) {
                List<Integer> sizes = randomSplit(stream.length, new Random(seed));
                assertEquals(frames, feed(stream, sizes, kind), kind + " seed " + seed);
            }
        }
    }

    @Test
    void emptyBodiesAndEmptyChunks() {
        List<Frame> frames = List.of(
                new Frame(1, 0, 0, new byte[0]),
                new Frame(2, Frames.FLAG_REQUEST, 9, new byte[0]),
                new Frame(3, Frames.FLAG_REPLY, 9, new byte[] {1}),
                new Frame(4, 0, 0, new byte[0]));
        byte[] stream = encode(frames);
        FrameDecoder decoder = new FrameDecoder();
        List<Frame> got = new ArrayList<>();
        decoder.decode(ByteBuffer.allocate(0), record(got));
        decoder.decode(ByteBuffer.wrap(stream), record(got));
        decoder.decode(ByteBuffer.allocate(0), record(got));
        decoder.endOfInput();
        assertEquals(frames, got);
    }

    @Test
    void bodyInOneChunkIsAViewOfThatChunk() {
        byte[] stream = encode(List.of(new Frame(5, 0, 0, "hello".getBytes()), new Frame(6, 0, 0, new byte[3])));
        ByteBuffer direct = ByteBuffer.allocateDirect(stream.length).put(stream).flip();
        FrameDecoder decoder = new FrameDecoder();
        List<ByteBuffer> bodies = new ArrayList<>();
        decoder.decode(direct, (type, flags, id, body) -> {
            assertTrue(body.isReadOnly());
            assertTrue(body.isDirect(), "a copy would be on the heap");
            assertEquals(type == 5 ? 5 : 3, body.remaining());
            bodies.add(body);
        });
        assertEquals(2, bodies.size());
        assertEquals(0, decoder.bodyCapacity(), "nothing gathered");
    }

    @Test
    void bodyLargerThanAnyChunkIsGatheredAndBigBufferReleased() {
        byte[] big = new byte[300_000];
        new Random(1).nextBytes(big);
        List<Frame> frames = List.of(new Frame(7, 0, 0, big), new Frame(8, 0, 0, new byte[] {1, 2}));
        byte[] stream = encode(frames);
        FrameDecoder decoder = new FrameDecoder();
        List<Frame> got = new ArrayList<>();
        ByteBuffer chunk = ByteBuffer.allocateDirect(4096);
        for (int at = 0; at < stream.length; at += 4096) {
            chunk.clear().put(stream, at, Math.min(4096, stream.length - at)).flip();
            decoder.decode(chunk, record(got));
            assertTrue(decoder.bodyCapacity() <= big.length);
        }
        decoder.endOfInput();
        assertEquals(frames, got);
        assertEquals(0, decoder.bodyCapacity(), "a buffer over 64 KiB is not kept");
    }

    @Test
    void listenerExceptionLeavesRestOfChunkAndDecoderUsable() {
        List<Frame> frames = List.of(new Frame(1, 0, 0, new byte[] {1}), new Frame(2, 0, 0, new byte[] {2}));
        ByteBuffer chunk = ByteBuffer.wrap(encode(frames));
        FrameDecoder decoder = new FrameDecoder();
        List<Frame> got = new ArrayList<>();
        FrameListener failFirst = (type, flags, id, body) -> {
            record(got).onFrame(type, flags, id, body);
            if (type == 1) {
                throw new IllegalStateException("listener bug");
            }
        };
        assertThrows(IllegalStateException.class, () -> decoder.decode(chunk, failFirst));
        assertEquals(11, chunk.position());
        decoder.decode(chunk, failFirst);
        assertEquals(frames, got);
    }

    // --- protocol errors ----------------------------------------------------------------------

    @Test
    void twoGibLengthFailsBeforeAnyAllocation() {
        byte[] header = header(0x2a, 0, 0, 0x8000_0000L);
        for (boolean byteAtATime : new boolean[] {false, true}) {
            FrameDecoder decoder = new FrameDecoder();
            long before = allocatedBytes();
            ProtocolException e = assertThrows(ProtocolException.class, () -> {
                if (byteAtATime) {
                    for (byte b : header) {
                        decoder.decode(ByteBuffer.wrap(new byte[] {b}), record(new ArrayList<>()));
                    }
                } else {
                    decoder.decode(ByteBuffer.wrap(header), record(new ArrayList<>()));
                }
            });
            assertTrue(allocatedBytes() - before < 1 << 20, "allocated " + (allocatedBytes() - before));
            assertEquals("frame length 2147483648 > maxFrameSize 16777216 (type 0x2a)", e.getMessage());
            assertEquals(0, decoder.bodyCapacity());
        }
        FrameDecoder decoder = new FrameDecoder(Integer.MAX_VALUE);
        assertEquals("frame length 4294967295 > maxFrameSize 2147483647 (type 0x01)",
                assertThrows(ProtocolException.class, () -> decoder.decode(
                        ByteBuffer.wrap(header(1, 0, 0, 0xffff_ffffL)), record(new ArrayList<>()))).getMessage());
    }

    @Test
    void lengthAtTheLimitPassesOneOverFails() {
        byte[] ok = encode(List.of(new Frame(1, 0, 0, new byte[100])));
        List<Frame> got = new ArrayList<>();
        new FrameDecoder(100).decode(ByteBuffer.wrap(ok), record(got));
        assertEquals(1, got.size());
        assertEquals("frame length 101 > maxFrameSize 100 (type 0x01)", assertThrows(ProtocolException.class,
                () -> new FrameDecoder(100).decode(ByteBuffer.wrap(header(1, 0, 0, 101)), record(got))).getMessage());
    }

    @Test
    void announcedLengthDoesNotReserveMemory() {
        FrameDecoder decoder = new FrameDecoder();
        ByteBuffer start = ByteBuffer.allocate(Frames.HEADER_SIZE + 10);
        start.put(header(1, 0, 0, Frames.DEFAULT_MAX_FRAME_SIZE)).put(new byte[10]).flip();
        decoder.decode(start, record(new ArrayList<>()));
        assertTrue(decoder.bodyCapacity() <= 64 * 1024, "capacity " + decoder.bodyCapacity());
    }

    @Test
    void unknownFlagBitsAreAProtocolErrorAndTheDecoderStaysFailed() {
        FrameDecoder decoder = new FrameDecoder();
        List<Frame> got = new ArrayList<>();
        byte[] stream = encode(List.of(new Frame(1, 0, 0, new byte[] {1})));
        byte[] bad = header(0x10, 0x09, 0, 0);
        ByteBuffer chunk = ByteBuffer.allocate(stream.length + bad.length).put(stream).put(bad).flip();
        ProtocolException e = assertThrows(ProtocolException.class, () -> decoder.decode(chunk, record(got)));
        assertEquals("frame flags 0x09 have unknown bits 0x08 (known: 0x07; type 0x10)", e.getMessage());
        assertEquals(1, got.size(), "the frame before the bad one was delivered");
        ProtocolException again = assertThrows(ProtocolException.class,
                () -> decoder.decode(ByteBuffer.wrap(stream), record(got)));
        assertEquals("decoder unusable after an earlier protocol error: " + e.getMessage(), again.getMessage());
        assertThrows(ProtocolException.class, decoder::endOfInput);
        assertEquals("frame flags 0x80 have unknown bits 0x80 (known: 0x07; type 0x01)",
                assertThrows(ProtocolException.class, () -> new FrameDecoder().decode(
                        ByteBuffer.wrap(header(1, 0x80, 0, 0)), record(got))).getMessage());
    }

    @Test
    void truncatedStreamAtEndOfInput() {
        FrameDecoder inHeader = new FrameDecoder();
        inHeader.decode(ByteBuffer.wrap(new byte[] {2, 0, 0}), record(new ArrayList<>()));
        assertEquals("truncated frame: 3 bytes of 10-byte header",
                assertThrows(ProtocolException.class, inHeader::endOfInput).getMessage());

        FrameDecoder inBody = new FrameDecoder();
        ByteBuffer partial = ByteBuffer.allocate(15).put(header(7, 0, 0, 100)).put(new byte[5]).flip();
        inBody.decode(partial, record(new ArrayList<>()));
        assertEquals("truncated frame: 15 bytes of 110 (type 0x07, body 5 of 100)",
                assertThrows(ProtocolException.class, inBody::endOfInput).getMessage());

        FrameDecoder headerOnly = new FrameDecoder();
        headerOnly.decode(ByteBuffer.wrap(header(7, 0, 0, 100)), record(new ArrayList<>()));
        assertEquals("truncated frame: 10 bytes of 110 (type 0x07, body 0 of 100)",
                assertThrows(ProtocolException.class, headerOnly::endOfInput).getMessage());

        FrameDecoder clean = new FrameDecoder();
        clean.decode(ByteBuffer.wrap(encode(List.of(new Frame(1, 0, 0, new byte[4])))), record(new ArrayList<>()));
        clean.endOfInput();
    }

    @Test
    void rejectsNonPositiveMaxFrameSize() {
        assertEquals("maxFrameSize <= 0: 0",
                assertThrows(InvalidArgumentException.class, () -> new FrameDecoder(0)).getMessage());
    }

    // --- allocation ---------------------------------------------------------------------------

    @Test
    void steadyStateAllocatesNothingPerFrame() {
        // Whole frames in a chunk (zero-copy path) and frames cut across 7-byte chunks (gathering path).
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            frames.add(new Frame(i & 0xff, Frames.FLAG_REQUEST, i, new byte[i % 20]));
        }
        byte[] stream = encode(frames);
        ByteBuffer chunk = ByteBuffer.allocateDirect(stream.length);
        FrameDecoder decoder = new FrameDecoder();
        long[] sum = new long[1];
        FrameListener out = (type, flags, id, body) -> sum[0] += body.remaining() + id;
        Runnable whole = () -> {
            chunk.clear().put(stream).flip();
            decoder.decode(chunk, out);
        };
        Runnable cut = () -> {
            for (int at = 0; at < stream.length; at += 7) {
                chunk.clear().put(stream, at, Math.min(7, stream.length - at)).flip();
                decoder.decode(chunk, out);
            }
        };
        for (Runnable run : List.of(whole, cut)) {
            for (int i = 0; i < 2_000; i++) {
                run.run(); // warm up: JIT, and the decoder's one body buffer
            }
            long before = allocatedBytes();
            for (int i = 0; i < 1_000; i++) {
                run.run();
            }
            long perFrame = (allocatedBytes() - before) / (1_000L * frames.size());
            assertEquals(0, perFrame, "bytes allocated per frame");
        }
        assertTrue(sum[0] > 0);
    }

    // --- harness ------------------------------------------------------------------------------

    private static long allocatedBytes() {
        var bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "no per-thread allocation counter");
        var sun = (com.sun.management.ThreadMXBean) bean;
        assumeTrue(sun.isThreadAllocatedMemorySupported() && sun.isThreadAllocatedMemoryEnabled());
        return sun.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    static List<Frame> randomFrames(Random random, int count) {
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int size = switch (random.nextInt(10)) {
                case 0, 1 -> 0;
                case 2 -> 2_000 + random.nextInt(8_000);
                case 3 -> i % 50 == 0 ? 70_000 + random.nextInt(10_000) : random.nextInt(500);
                default -> random.nextInt(64);
            };
            byte[] body = new byte[size];
            random.nextBytes(body);
            int flags = random.nextInt(Frames.KNOWN_FLAGS + 1);
            frames.add(new Frame(random.nextInt(256), flags, flags == 0 ? 0 : random.nextInt(), body));
        }
        return frames;
    }

    static byte[] encode(List<Frame> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Frame f : frames) {
            ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_SIZE);
            Frames.writeHeader(header, f.type, f.flags, f.requestId, f.body.length);
            out.writeBytes(header.array());
            out.writeBytes(f.body);
        }
        return out.toByteArray();
    }

    /** A header written by hand, so that it can say what writeHeader refuses to. */
    static byte[] header(int type, int flags, int requestId, long length) {
        return HexFormat.of().parseHex(String.format("%02x%02x%08x%08x", type, flags, requestId, length));
    }

    private static FrameListener record(List<Frame> into) {
        return (type, flags, id, body) -> {
            assertTrue(body.isReadOnly());
            byte[] copy = new byte[body.remaining()];
            body.get(copy);
            into.add(new Frame(type, flags, id, copy));
        };
    }

    private static List<Integer> ones(int n) {
        return new ArrayList<>(java.util.Collections.nCopies(n, 1));
    }

    private static List<Integer> randomSplit(int length, Random random) {
        List<Integer> sizes = new ArrayList<>();
        int bound = switch (random.nextInt(3)) {
            case 0 -> 16;
            case 1 -> 4_096;
            default -> 100_000;
        };
        for (int left = length; left > 0; ) {
            int n = Math.min(left, 1 + random.nextInt(bound));
            sizes.add(n);
            left -= n;
        }
        return sizes;
    }

    private static List<Frame> feed(byte[] stream, List<Integer> sizes, Kind kind) {
        FrameDecoder decoder = new FrameDecoder();
        List<Frame> got = new ArrayList<>();
        FrameListener out = record(got);
        int capacity = sizes.stream().mapToInt(Integer::intValue).max().orElse(0);
        ByteBuffer direct = ByteBuffer.allocateDirect(capacity);
        byte[] backing = new byte[capacity + 8];
        int at = 0;
        for (int size : sizes) {
            ByteBuffer chunk = switch (kind) {
                case DIRECT -> direct.clear().put(stream, at, size).flip();
                case HEAP -> ByteBuffer.wrap(copy(backing, stream, at, size, 0), 0, size);
                case HEAP_OFFSET -> ByteBuffer.wrap(copy(backing, stream, at, size, 5), 2, size + 3).slice().position(3);
                case DIRECT_LITTLE_ENDIAN -> direct.order(ByteOrder.LITTLE_ENDIAN).clear().put(stream, at, size).flip();
                case HEAP_LITTLE_ENDIAN -> ByteBuffer.wrap(copy(backing, stream, at, size, 0), 0, size).order(ByteOrder.LITTLE_ENDIAN);
            };
            decoder.decode(chunk, out);
            assertEquals(0, chunk.remaining(), "chunk consumed");
            at += size;
        }
        decoder.endOfInput();
        return got;
    }

    private static byte[] copy(byte[] backing, byte[] stream, int from, int size, int to) {
        Arrays.fill(backing, (byte) 0x5a); // junk a decoder keeping stale references would read
        System.arraycopy(stream, from, backing, to, size);
        return backing;
    }

    @Test
    void harnessSelfCheck() {
        assertArrayEquals(new byte[] {1, 2, 0, 0, 0, 3, (byte) 0x80, 0, 0, 0}, header(1, 2, 3, 0x8000_0000L));
    }
}
