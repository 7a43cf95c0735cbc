package io.dualpipe.core.review14;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.TestSupport;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.FrameDecoder;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.message.MessageChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * review14: the frame header is now read with one getInt per field and written with one putLong and
 * one putShort. The wire stays big-endian whatever the caller's buffer order, heap or direct, at any
 * offset, and the bytes written are those of a frame encoded by hand.
 */
class FrameHeaderWireTest {

    /** The header by hand, in network order: type, flags, id, length. */
    private static byte[] frame(int type, int flags, int id, byte[] body) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(type);
        b.write(flags);
        for (int s = 24; s >= 0; s -= 8) {
            b.write(id >>> s);
        }
        for (int s = 24; s >= 0; s -= 8) {
            b.write(body.length >>> s);
        }
        b.writeBytes(body);
        return b.toByteArray();
    }

    static Stream<Arguments> buffers() {
        List<Arguments> all = new ArrayList<>();
        for (boolean direct : new boolean[] {false, true}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                for (int offset = 0; offset < 9; offset++) {
                    all.add(Arguments.of(direct, order, offset));
                }
            }
        }
        return all.stream();
    }

    private record Seen(int type, int flags, int id, byte[] body) {
    }

    @ParameterizedTest(name = "direct={0} order={1} offset={2}")
    @MethodSource("buffers")
    void headersDecodeBigEndianWhateverTheBufferOrderAndOffset(boolean direct, ByteOrder order, int offset) {
        byte[] body = new byte[0x0102]; // length bytes 00 00 01 02: a little-endian read would be 0x02010000
        Arrays.fill(body, (byte) 7);
        byte[] f1 = frame(0xC3, 0x03, 0x89ABCDEF, body);
        byte[] f2 = frame(0x01, 0x00, 0x7F000001, new byte[] {1, 2, 3});
        byte[] wire = new byte[offset + f1.length + f2.length];
        System.arraycopy(f1, 0, wire, offset, f1.length);
        System.arraycopy(f2, 0, wire, offset + f1.length, f2.length);
        ByteBuffer chunk = direct ? ByteBuffer.allocateDirect(wire.length) : ByteBuffer.allocate(wire.length);
        chunk.put(wire).order(order).position(offset);
        List<Seen> seen = new ArrayList<>();
        new FrameDecoder().decode(chunk, (type, flags, id, b) -> {
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            seen.add(new Seen(type, flags, id, copy));
        });
        assertEquals(2, seen.size());
        assertEquals(0xC3, seen.get(0).type());
        assertEquals(0x03, seen.get(0).flags());
        assertEquals(0x89ABCDEF, seen.get(0).id());
        assertArrayEquals(body, seen.get(0).body());
        assertEquals(0x01, seen.get(1).type());
        assertEquals(0x7F000001, seen.get(1).id());
        assertArrayEquals(new byte[] {1, 2, 3}, seen.get(1).body());
        assertEquals(order, chunk.order(), "the caller's buffer order is left alone");
    }

    @Test
    @Timeout(30)
    void framesWrittenAreByteIdenticalToFramesEncodedByHand() throws Exception {
        try (EventLoop loop = EventLoop.create("r14-wire")) {
            FdChannel[] toPeer = FdChannel.pipe();
            FdChannel[] fromPeer = FdChannel.pipe();
            MessageChannel ch = MessageChannel.builder(CodecRegistry.builder().registerAll(Codecs.builtins()).build())
                    .name("r14").open(FdStream.source(loop, fromPeer[0], "in", 64 * 1024),
                            FdStream.sink(loop, toPeer[1], "out", 1 << 20, 1 << 19));
            byte[] small = {9, 8, 7};
            byte[] large = new byte[0x010203]; // over the copy limit: its header goes through room(HEADER_SIZE)
            for (int i = 0; i < large.length; i++) {
                large[i] = (byte) (i * 31);
            }
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            ch.send(Codecs.BYTES, small).get(10, TimeUnit.SECONDS);                    // off the loop
            expected.writeBytes(frame(Codecs.BYTES, 0, 0, small));
            CompletableFuture<Void> onLoop = new CompletableFuture<>();
            loop.execute(() -> {
                ch.send(Codecs.BYTES, small);                                           // borrowed array
                ch.request(Codecs.BYTES, small, Object.class, null);                    // id 1, borrowed
                ch.request(Codecs.BYTES, small, Object.class, Duration.ofMinutes(5));   // id 2, timed
                onLoop.complete(null);
            });
            onLoop.get(10, TimeUnit.SECONDS);
            expected.writeBytes(frame(Codecs.BYTES, 0, 0, small));
            expected.writeBytes(frame(Codecs.BYTES, 0x01, 1, small));
            expected.writeBytes(frame(Codecs.BYTES, 0x01, 2, small));
            ch.request(Codecs.BYTES, large, Object.class, null);                        // id 3, off the loop
            expected.writeBytes(frame(Codecs.BYTES, 0x01, 3, large));
            ch.send(Codecs.UTF8, "\u00e9t\u00e9");
            expected.writeBytes(frame(Codecs.UTF8, 0, 0, "\u00e9t\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8)));

            byte[] want = expected.toByteArray();
            ByteBuffer got = ByteBuffer.allocateDirect(want.length + 1);
            TestSupport.await("all " + want.length + " bytes", Duration.ofSeconds(20), () -> {
                try {
                    toPeer[0].read(got);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                return got.position() >= want.length;
            });
            got.flip();
            byte[] bytes = new byte[got.remaining()];
            got.get(bytes);
            assertArrayEquals(want, bytes);
            ch.close();
            ch.closeFuture().exceptionally(e -> null).get(10, TimeUnit.SECONDS);
            toPeer[0].close();
            fromPeer[1].close();
        }
    }
}
