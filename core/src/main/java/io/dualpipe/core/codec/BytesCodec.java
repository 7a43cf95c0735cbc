package io.dualpipe.core.codec;

import java.nio.ByteBuffer;

/** Type 0x01: the body is the bytes, as they are. Stateless. */
final class BytesCodec implements MessageCodec<byte[]> {
    static final BytesCodec INSTANCE = new BytesCodec();

    private BytesCodec() {
    }

    @Override
    public int type() {
        return Codecs.BYTES;
    }

    @Override
    public Class<byte[]> javaType() {
        return byte[].class;
    }

    // A copy: the frame may be written long after the sender has reused its array.
    @Override
    public ByteBuffer encode(byte[] message) {
        return ByteBuffer.wrap(message.clone());
    }

    @Override
    public byte[] decode(ByteBuffer body) {
        byte[] bytes = new byte[body.remaining()];
        body.get(bytes);
        return bytes;
    }

    @Override
    public String toString() {
        return "bytes";
    }
}
