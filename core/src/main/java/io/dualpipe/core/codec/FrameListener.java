package io.dualpipe.core.codec;

import java.nio.ByteBuffer;

/**
 * Receives each complete frame a {@link FrameDecoder} finds, synchronously, on the thread that
 * called {@link FrameDecoder#decode}. Must not call back into the decoder that is calling it.
 */
@FunctionalInterface
public interface FrameListener {

    /**
     * One frame.
     *
     * @param type the message type byte, 0..255
     * @param flags the flag bits, a subset of {@link Frames#KNOWN_FLAGS}
     * @param requestId the unsigned 32-bit request id as an {@code int}
     *     ({@link Integer#toUnsignedLong} to print it)
     * @param body a read-only, big-endian view of the body: its {@code remaining()} bytes from
     *     {@code position()}, which need not be 0. It is borrowed: valid only until this method
     *     returns, after which the decoder reuses the memory behind it. Copy what you keep. Moving
     *     its position or limit is fine.
     */
    void onFrame(int type, int flags, int requestId, ByteBuffer body);
}
