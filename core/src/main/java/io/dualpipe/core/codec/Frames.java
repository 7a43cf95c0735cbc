package io.dualpipe.core.codec;

import io.dualpipe.core.InvalidArgumentException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The frame format shared with every peer, whatever its language; {@code docs/wire-format.md} is
 * the normative description.
 *
 * <pre>
 * offset 0  u8   type       message type; selects the codec
 * offset 1  u8   flags      REQUEST | REPLY | ERROR; other bits must be 0
 * offset 2  u32  requestId  big-endian; 0 unless REQUEST or REPLY
 * offset 6  u32  length     big-endian body length, at most the receiver's maxFrameSize
 * offset 10 ...  body
 * </pre>
 *
 * Stateless; safe from any thread.
 */
public final class Frames {
    /** The header's size in bytes: every frame is this many bytes plus its body. */
    public static final int HEADER_SIZE = 10;
    /** The sender expects a reply carrying the same requestId. */
    public static final int FLAG_REQUEST = 0x01;
    /** This frame answers the request with the same requestId. */
    public static final int FLAG_REPLY = 0x02;
    /** With {@link #FLAG_REPLY}: the request failed, and the body is a UTF-8 error text. */
    public static final int FLAG_ERROR = 0x04;
    /** Any other bit set makes the frame a protocol error. */
    public static final int KNOWN_FLAGS = FLAG_REQUEST | FLAG_REPLY | FLAG_ERROR;
    /** 16 MiB. */
    public static final int DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

    private Frames() {
    }

    /**
     * Writes a 10-byte header at {@code dst}'s position and advances it, big-endian whatever
     * {@code dst.order()} says. Checks everything first, so a failure writes nothing.
     *
     * @param dst       the buffer to write into, at its position
     * @param type      the message type byte, 0..255
     * @param flags     a mix of {@link #FLAG_REQUEST}, {@link #FLAG_REPLY}, {@link #FLAG_ERROR}
     * @param requestId an unsigned 32-bit id carried in an {@code int}
     * @param length    the body's length in bytes, {@code >= 0}
     * @throws InvalidArgumentException for a type outside 0..255, unknown flag bits, a negative
     *     length, or fewer than {@link #HEADER_SIZE} bytes remaining in {@code dst}
     */
    public static void writeHeader(ByteBuffer dst, int type, int flags, int requestId, int length) {
        if (type < 0 || type > 0xff) {
            throw new InvalidArgumentException("type not in 0..255: " + type);
        }
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new InvalidArgumentException(String.format(
                    "flags 0x%02x have unknown bits 0x%02x (known: 0x%02x)", flags, flags & ~KNOWN_FLAGS, KNOWN_FLAGS));
        }
        if (length < 0) {
            throw new InvalidArgumentException("length < 0: " + length);
        }
        if (dst.remaining() < HEADER_SIZE) {
            throw new InvalidArgumentException("dst.remaining() < " + HEADER_SIZE + ": " + dst.remaining());
        }
        int at = dst.position();
        dst.put(at, (byte) type);
        dst.put(at + 1, (byte) flags);
        putIntBigEndian(dst, at + 2, requestId);
        putIntBigEndian(dst, at + 6, length);
        dst.position(at + HEADER_SIZE);
    }

    // Byte by byte, so that a little-endian buffer from a careless caller cannot flip the wire order.
    static void putIntBigEndian(ByteBuffer dst, int at, int value) {
        dst.put(at, (byte) (value >>> 24));
        dst.put(at + 1, (byte) (value >>> 16));
        dst.put(at + 2, (byte) (value >>> 8));
        dst.put(at + 3, (byte) value);
    }

    // One bounds-checked load rather than four (the decoder reads two per frame), in wire order
    // whatever order the caller's buffer is set to.
    static int getIntBigEndian(ByteBuffer src, int at) {
        int v = src.getInt(at);
        return src.order() == ByteOrder.BIG_ENDIAN ? v : Integer.reverseBytes(v);
    }
}
