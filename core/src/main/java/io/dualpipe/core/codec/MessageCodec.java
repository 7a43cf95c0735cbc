package io.dualpipe.core.codec;

import java.nio.ByteBuffer;

/**
 * Turns messages of one Java type into frame bodies and back, for one message type byte.
 *
 * <p>Type bytes: 0x00 is reserved, 0x01–0x0F belong to the built-ins in {@link Codecs} (and future
 * ones), 0x10–0xFF are free for applications.
 *
 * <p><b>Threading.</b> One codec instance serves every connection of a {@link CodecRegistry}, from
 * any thread, so implementations must be thread-safe; stateless ones trivially are.
 *
 * <p><b>Failures.</b> Throw {@link EncodeException} or {@link DecodeException} with a message saying
 * why. Other runtime exceptions reach callers of the registry wrapped in one of those.
 *
 * <p>Override {@code toString} with a short name: error messages print it.
 *
 * @param <T> the Java type of the messages
 */
public interface MessageCodec<T> {

    /** {@return the message type byte this codec handles, 1..255} */
    int type();

    /** {@return the class of the messages; {@link CodecRegistry#encode(Object)} picks codecs by it} */
    Class<T> javaType();

    /**
     * Encodes {@code message}. The returned buffer's remaining bytes are the body; the caller owns
     * the buffer afterwards, so it must not be shared with anything that could change it later.
     *
     * @param message the message to encode
     * @return the body, in the buffer's remaining bytes
     * @throws EncodeException when {@code message} does not fit the codec's format
     */
    ByteBuffer encode(T message);

    /**
     * Decodes a body: the {@code body.remaining()} bytes from {@code body.position()}, which need
     * not be 0. The buffer is borrowed, valid only during this call and reused afterwards; copy
     * whatever the result keeps. Moving its position is fine.
     *
     * @param body the frame's body, borrowed for this call
     * @return the message
     * @throws DecodeException when the body is not valid for this codec
     */
    T decode(ByteBuffer body);
}
