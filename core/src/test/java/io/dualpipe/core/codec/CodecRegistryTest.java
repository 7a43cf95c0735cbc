package io.dualpipe.core.codec;

import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.dualpipe.core.codec.CodecsTest.borrowed;
import static io.dualpipe.core.codec.CodecsTest.remaining;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodecRegistryTest {
    private static final CodecRegistry BUILTINS = CodecRegistry.builder().registerAll(Codecs.builtins()).build();

    /**
     * A codec with a fixed table of strings, each sent as its one-byte index: strings outside the
     * table do not encode, indexes outside it do not decode.
     */
    static final class StringTableCodec implements MessageCodec<String> {
        private final int type;
        private final List<String> table;

        StringTableCodec(int type, List<String> table) {
            this.type = type;
            this.table = List.copyOf(table);
        }

        @Override
        public int type() {
            return type;
        }

        @Override
        public Class<String> javaType() {
            return String.class;
        }

        @Override
        public ByteBuffer encode(String message) {
            int index = table.indexOf(message);
            if (index < 0) {
                throw new EncodeException(type, CodecException.describe(this) + " has no entry \"" + message + "\"");
            }
            return ByteBuffer.wrap(new byte[] {(byte) index});
        }

        @Override
        public String decode(ByteBuffer body) {
            if (body.remaining() != 1) {
                throw new DecodeException(type, CodecException.describe(this) + " body is " + body.remaining()
                        + " bytes, not 1");
            }
            int index = body.get() & 0xff;
            if (index >= table.size()) {
                throw new DecodeException(type, CodecException.describe(this) + " index " + index + " >= table size "
                        + table.size());
            }
            return table.get(index);
        }

        @Override
        public String toString() {
            return "table";
        }
    }

    /** A codec with bugs: everything it throws is untyped. */
    static final class BuggyCodec implements MessageCodec<Integer> {
        @Override
        public int type() {
            return 0x20;
        }

        @Override
        public Class<Integer> javaType() {
            return Integer.class;
        }

        @Override
        public ByteBuffer encode(Integer message) {
            if (message == 0) {
                return null;
            }
            throw new IllegalStateException("boom");
        }

        @Override
        public Integer decode(ByteBuffer body) {
            throw new NullPointerException("bang");
        }

        @Override
        public String toString() {
            return "buggy";
        }
    }

    private static final StringTableCodec VERBS = new StringTableCodec(0x10, List.of("GET", "PUT", "DELETE"));

    @Test
    void builtinsRoundTripThroughTheRegistry() {
        byte[] bytes = {0, 1, (byte) 0xff};
        List<Object> messages = List.of(bytes, "héllo", Map.of("a", List.of(1, 2)), List.of("x"), 12, true);
        List<Integer> types = List.of(0x01, 0x02, 0x03, 0x03, 0x03, 0x03);
        for (int i = 0; i < messages.size(); i++) {
            Object message = messages.get(i);
            int type = BUILTINS.codecFor(message.getClass()).type();
            assertEquals(types.get(i), type, message.toString());
            ByteBuffer body = BUILTINS.encode(message);
            Object back = BUILTINS.decode(type, borrowed(body));
            if (message instanceof byte[] b) {
                assertArrayEquals(b, (byte[]) back);
            } else {
                assertEquals(message, back);
            }
        }
    }

    @Test
    void mostSpecificJavaTypeWins() {
        assertSame(Codecs.utf8(), BUILTINS.codecFor(String.class));
        assertSame(Codecs.bytes(), BUILTINS.codecFor(byte[].class));
        assertSame(Codecs.json(), BUILTINS.codecFor(HashMap.class));
        assertSame(Codecs.json(), BUILTINS.codecFor(ArrayList.class));
        MessageCodec<CodecsTest.Point> points = Codecs.json(0x10, CodecsTest.Point.class);
        CodecRegistry registry = CodecRegistry.builder().registerAll(Codecs.builtins()).register(points).build();
        assertSame(points, registry.codecFor(CodecsTest.Point.class));
        assertSame(Codecs.json(), registry.codecFor(Integer.class));
    }

    @Test
    void stringTableCodec() {
        CodecRegistry registry = CodecRegistry.builder().register(VERBS).build();
        for (String verb : List.of("GET", "PUT", "DELETE")) {
            ByteBuffer body = registry.encode(verb);
            assertEquals(1, body.remaining());
            assertEquals(verb, registry.decode(0x10, borrowed(body)));
        }
        assertArrayEquals(new byte[] {2}, remaining(registry.encode(0x10, "DELETE")));

        EncodeException encode = assertThrows(EncodeException.class, () -> registry.encode("PATCH"));
        assertEquals(0x10, encode.type());
        assertEquals("codec 0x10 (table) has no entry \"PATCH\"", encode.getMessage());

        DecodeException decode = assertThrows(DecodeException.class,
                () -> registry.decode(0x10, ByteBuffer.wrap(new byte[] {3})));
        assertEquals(0x10, decode.type());
        assertEquals("codec 0x10 (table) index 3 >= table size 3", decode.getMessage());
        assertThrows(DecodeException.class, () -> registry.decode(0x10, ByteBuffer.wrap(new byte[] {(byte) 0xff})));
        assertThrows(DecodeException.class, () -> registry.decode(0x10, ByteBuffer.allocate(0)));
    }

    @Test
    void untypedCodecFailuresSurfaceAsCodecExceptions() {
        CodecRegistry registry = CodecRegistry.builder().register(new BuggyCodec()).build();
        EncodeException encode = assertThrows(EncodeException.class, () -> registry.encode(7));
        assertEquals(0x20, encode.type());
        assertEquals("codec 0x20 (buggy) failed to encode java.lang.Integer: java.lang.IllegalStateException: boom",
                encode.getMessage());
        assertInstanceOf(IllegalStateException.class, encode.getCause());

        assertEquals("codec 0x20 (buggy) returned null",
                assertThrows(EncodeException.class, () -> registry.encode(0x20, 0)).getMessage());

        DecodeException decode = assertThrows(DecodeException.class, () -> registry.decode(0x20, ByteBuffer.allocate(4)));
        assertEquals("codec 0x20 (buggy) failed on 4-byte body: java.lang.NullPointerException: bang",
                decode.getMessage());
        assertInstanceOf(NullPointerException.class, decode.getCause());
    }

    @Test
    void jacksonFailuresThroughTheRegistry() {
        assertEquals(0x03, assertThrows(EncodeException.class, () -> BUILTINS.encode(new Object())).type());
        assertEquals(0x03, assertThrows(DecodeException.class,
                () -> BUILTINS.decode(0x03, CodecsTest.utf8("{oops}"))).type());
        assertEquals(0x02, assertThrows(DecodeException.class,
                () -> BUILTINS.decode(0x02, CodecsTest.bytes(0xc3))).type());
    }

    @Test
    void unknownTypeByte() {
        UnknownTypeException decode = assertThrows(UnknownTypeException.class,
                () -> BUILTINS.decode(0x2a, ByteBuffer.allocate(0)));
        assertEquals("no codec for type 0x2a", decode.getMessage());
        assertEquals(0x2a, decode.type());
        assertEquals("no codec for type 0xff",
                assertThrows(UnknownTypeException.class, () -> BUILTINS.encode(0xff, "x")).getMessage());
        assertEquals("no codec for type 0x00", assertThrows(UnknownTypeException.class, () -> BUILTINS.codec(0)).getMessage());
        assertEquals("type not in 0..255: 256",
                assertThrows(InvalidArgumentException.class, () -> BUILTINS.codec(256)).getMessage());
    }

    @Test
    void duplicateTypeByteIsRejectedNamingBothCodecs() {
        CodecRegistry.Builder builder = CodecRegistry.builder().registerAll(Codecs.builtins());
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> builder.register(new StringTableCodec(0x02, List.of("a"))));
        assertEquals("type 0x02 registered twice: utf8 and table", e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> builder.register(Codecs.json()));
    }

    @Test
    void reservedAndOutOfRangeTypesAreRejected() {
        assertEquals("codec type 0x00 is reserved (table)", assertThrows(InvalidArgumentException.class,
                () -> CodecRegistry.builder().register(new StringTableCodec(0, List.of()))).getMessage());
        assertEquals("codec type not in 0..255: 256 (table)", assertThrows(InvalidArgumentException.class,
                () -> CodecRegistry.builder().register(new StringTableCodec(256, List.of()))).getMessage());
    }

    @Test
    void classWithoutCodecOrWithTwo() {
        CodecRegistry textOnly = CodecRegistry.builder().register(Codecs.utf8()).build();
        assertEquals("no codec for java.lang.Integer",
                assertThrows(InvalidArgumentException.class, () -> textOnly.encode(42)).getMessage());
        assertEquals("message is null",
                assertThrows(InvalidArgumentException.class, () -> textOnly.encode(null)).getMessage());

        CodecRegistry both = CodecRegistry.builder().register(Codecs.utf8()).register(VERBS).build();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> both.encode("GET"));
        assertEquals("2 codecs equally fit java.lang.String: codec 0x02 (utf8) for java.lang.String;"
                + " codec 0x10 (table) for java.lang.String; pass the type byte to encode(int, Object)", e.getMessage());
        assertArrayEquals(new byte[] {0}, remaining(both.encode(0x10, "GET")));
        assertArrayEquals(new byte[] {'G', 'E', 'T'}, remaining(both.encode(0x02, "GET")));
    }

    @Test
    void explicitTypeChecksTheMessageClass() {
        EncodeException e = assertThrows(EncodeException.class, () -> BUILTINS.encode(0x02, 42));
        assertEquals("codec 0x02 (utf8) encodes java.lang.String, not java.lang.Integer", e.getMessage());
        assertEquals(0x02, e.type());
    }

    @Test
    void framesCarryRegistryMessagesEndToEnd() {
        CodecRegistry registry = CodecRegistry.builder().registerAll(Codecs.builtins()).register(VERBS).build();
        List<Object> sent = List.of("hello", Map.of("op", "sum", "args", List.of(1, 2)), new byte[70_000], "x");
        List<Integer> types = List.of(0x02, 0x03, 0x01, 0x02);
        ByteBuffer stream = ByteBuffer.allocate(200_000);
        for (int i = 0; i < sent.size(); i++) {
            ByteBuffer body = registry.encode(types.get(i), sent.get(i));
            Frames.writeHeader(stream, types.get(i), Frames.FLAG_REQUEST, i + 1, body.remaining());
            stream.put(body);
        }
        ByteBuffer verb = registry.encode(0x10, "PUT");
        Frames.writeHeader(stream, 0x10, 0, 0, verb.remaining());
        stream.put(verb).flip();

        List<Object> received = new ArrayList<>();
        FrameDecoder decoder = new FrameDecoder();
        ByteBuffer chunk = ByteBuffer.allocateDirect(1000);
        while (stream.hasRemaining()) {
            int n = Math.min(chunk.capacity(), stream.remaining());
            chunk.clear().put(stream.slice(stream.position(), n)).flip();
            stream.position(stream.position() + n);
            decoder.decode(chunk, (type, flags, id, body) -> received.add(registry.decode(type, body)));
        }
        decoder.endOfInput();
        assertEquals(5, received.size());
        assertEquals(sent.get(0), received.get(0));
        assertEquals(sent.get(1), received.get(1));
        assertArrayEquals((byte[]) sent.get(2), (byte[]) received.get(2));
        assertEquals("x", received.get(3));
        assertEquals("PUT", received.get(4));
    }

    @Test
    void sharedBetweenThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        Object message = (i + seed) % 2 == 0 ? "m" + i : Map.of("i", i);
                        int type = BUILTINS.codecFor(message.getClass()).type();
                        assertEquals(message, BUILTINS.decode(type, BUILTINS.encode(message)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(pool.isShutdown());
    }
}
