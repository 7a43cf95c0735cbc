package io.dualpipe.core.codec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodecsTest {

    record Point(int x, int y) {
    }

    record Person(String firstName, int age) {
    }

    // --- bytes --------------------------------------------------------------------------------

    @Test
    void bytesRoundTrip() {
        byte[] data = new byte[1000];
        new Random(3).nextBytes(data);
        for (byte[] message : List.of(new byte[0], data)) {
            ByteBuffer body = Codecs.bytes().encode(message);
            assertArrayEquals(message, Codecs.bytes().decode(borrowed(body)));
        }
        assertEquals(0x01, Codecs.bytes().type());
    }

    @Test
    void bytesEncodeCopiesSoTheSenderMayReuseItsArray() {
        byte[] message = {1, 2, 3};
        ByteBuffer body = Codecs.bytes().encode(message);
        message[0] = 9;
        assertEquals(1, body.get(0));
    }

    // --- utf8 ---------------------------------------------------------------------------------

    @Test
    void utf8RoundTrip() {
        for (String s : List.of("", "ping", "héllo wörld, 日本語, 𝄞, \u0000 and \uFFFD")) {
            ByteBuffer body = Codecs.utf8().encode(s);
            assertArrayEquals(s.getBytes(UTF_8), remaining(body.duplicate()));
            assertEquals(s, Codecs.utf8().decode(borrowed(body)));
        }
    }

    @Test
    void utf8MalformedBodyIsADecodeException() {
        DecodeException e = assertThrows(DecodeException.class,
                () -> Codecs.utf8().decode(borrowed(bytes(0x61, 0x62, 0xff, 0x63))));
        assertEquals(0x02, e.type());
        assertEquals("codec 0x02 (utf8) cannot decode 4-byte body: malformed UTF-8 at byte 2", e.getMessage());
        // Truncated sequence, overlong encoding, an encoded surrogate, a lone continuation byte.
        for (ByteBuffer bad : List.of(bytes(0xe2, 0x82), bytes(0xc0, 0xaf), bytes(0xed, 0xa0, 0x80), bytes(0x80))) {
            assertThrows(DecodeException.class, () -> Codecs.utf8().decode(borrowed(bad)));
        }
    }

    @Test
    void utf8UnpairedSurrogateIsAnEncodeException() {
        EncodeException e = assertThrows(EncodeException.class, () -> Codecs.utf8().encode("a\uD800b"));
        assertEquals(0x02, e.type());
        assertEquals("codec 0x02 (utf8) cannot encode a string with an unpaired surrogate U+D800 at index 1",
                e.getMessage());
        assertThrows(EncodeException.class, () -> Codecs.utf8().encode("ab\uDC00"));
        assertThrows(EncodeException.class, () -> Codecs.utf8().encode("\uD800"));
    }

    // --- json ---------------------------------------------------------------------------------

    @Test
    void jsonRoundTripOfPlainValues() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("op", "ping");
        map.put("n", 42);
        map.put("big", 1L << 40);
        map.put("pi", 2.5);
        map.put("ok", true);
        map.put("nothing", null);
        map.put("list", Arrays.asList(1, "a", null, List.of()));
        map.put("nested", Map.of("k", "日本"));
        for (Object value : Arrays.asList(map, List.of(1, 2), "text", 7, true, null)) {
            ByteBuffer body = Codecs.json().encode(value);
            assertEquals(value, Codecs.json().decode(borrowed(body.duplicate())));
            assertEquals(value, Codecs.json().decode(body), "heap buffer with an array");
        }
        assertEquals("{\"a\":[1,true]}", new String(remaining(Codecs.json().encode(Map.of("a", List.of(1, true)))), UTF_8));
    }

    @Test
    void jsonDecodesFromAnArrayWithOffsets() {
        byte[] padded = "xx[1,2]yy".getBytes(UTF_8);
        ByteBuffer body = ByteBuffer.wrap(padded, 1, 7).slice().position(1).limit(6);
        assertEquals(List.of(1, 2), Codecs.json().decode(body));
    }

    @Test
    void jsonBadBodiesAreDecodeExceptions() {
        DecodeException e = assertThrows(DecodeException.class, () -> Codecs.json().decode(borrowed(utf8("{\"a\":"))));
        assertEquals(0x03, e.type());
        assertTrue(e.getMessage().startsWith("codec 0x03 (json<Object>) cannot decode 5-byte body as Object: "),
                e.getMessage());
        for (String bad : List.of("", "{} x", "[1,]", "nul")) {
            assertThrows(DecodeException.class, () -> Codecs.json().decode(borrowed(utf8(bad))), bad);
            assertThrows(DecodeException.class, () -> Codecs.json().decode(utf8(bad)), bad);
        }
    }

    @Test
    void jsonUnserialisableObjectIsAnEncodeException() {
        EncodeException e = assertThrows(EncodeException.class, () -> Codecs.json().encode(new Object()));
        assertEquals(0x03, e.type());
        assertTrue(e.getMessage().startsWith("codec 0x03 (json<Object>) cannot encode java.lang.Object: "
                + "No serializer found for class java.lang.Object"), e.getMessage());
    }

    @Test
    void jsonForAUserClass() {
        MessageCodec<Point> codec = Codecs.json(0x10, Point.class);
        assertEquals(0x10, codec.type());
        assertEquals(Point.class, codec.javaType());
        assertEquals("json<Point>", codec.toString());
        ByteBuffer body = codec.encode(new Point(3, -4));
        assertEquals("{\"x\":3,\"y\":-4}", new String(remaining(body.duplicate()), UTF_8));
        assertEquals(new Point(3, -4), codec.decode(borrowed(body)));
        DecodeException e = assertThrows(DecodeException.class, () -> codec.decode(borrowed(utf8("{\"x\":\"three\"}"))));
        assertEquals(0x10, e.type());
        assertTrue(e.getMessage().startsWith("codec 0x10 (json<Point>) cannot decode 13-byte body as Point: "),
                e.getMessage());
    }

    @Test
    void jsonWithTheApplicationsMapper() {
        ObjectMapper mapper = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        MessageCodec<Person> codec = Codecs.json(0x11, Person.class, mapper);
        ByteBuffer body = codec.encode(new Person("Ada", 36));
        assertEquals("{\"first_name\":\"Ada\",\"age\":36}", new String(remaining(body.duplicate()), UTF_8));
        assertEquals(new Person("Ada", 36), codec.decode(borrowed(body)));
    }

    @Test
    void jsonFactoryChecksItsArguments() {
        assertEquals("type not in 0..255: 256", assertThrows(InvalidArgumentException.class,
                () -> Codecs.json(256, Point.class)).getMessage());
        assertEquals("mapper is null", assertThrows(InvalidArgumentException.class,
                () -> Codecs.json(0x10, Point.class, null)).getMessage());
    }

    @Test
    void builtinTypeBytes() {
        assertEquals(List.of(0x01, 0x02, 0x03), Codecs.builtins().stream().map(MessageCodec::type).toList());
        assertInstanceOf(Map.class, Codecs.json().decode(utf8("{}")));
        assertNull(Codecs.json().decode(utf8("null")));
    }

    @Test
    @org.junit.jupiter.api.Timeout(10)
    void noBuiltinTakesTheWorkerEnvelopeType() {
        // worker pools register their envelope codec beside the built-ins: a clash would break every pool
        assertEquals(0x04, Codecs.WORKER_ENVELOPE);
        assertTrue(Codecs.builtins().stream().noneMatch(c -> c.type() == Codecs.WORKER_ENVELOPE));
    }

    // --- helpers ------------------------------------------------------------------------------

    /** As a FrameDecoder hands bodies over: read-only, direct, position not 0. */
    static ByteBuffer borrowed(ByteBuffer body) {
        byte[] bytes = remaining(body);
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 6);
        direct.position(3).put(bytes).flip().position(3);
        return direct.asReadOnlyBuffer();
    }

    static byte[] remaining(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(UTF_8));
    }

    static ByteBuffer bytes(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length);
        for (int v : values) {
            buffer.put((byte) v);
        }
        return buffer.flip();
    }
}
