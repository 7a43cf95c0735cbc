package io.dualpipe.core.codec;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * Type 0x02: the body is the string in UTF-8, no terminator, no BOM. Strict both ways: a string with
 * an unpaired surrogate will not encode and malformed UTF-8 will not decode, because a silent
 * U+FFFD or '?' would hand the peer text nobody sent. Stateless.
 */
final class Utf8Codec implements MessageCodec<String> {
    static final Utf8Codec INSTANCE = new Utf8Codec();

    private Utf8Codec() {
    }

    @Override
    public int type() {
        return Codecs.UTF8;
    }

    @Override
    public Class<String> javaType() {
        return String.class;
    }

    @Override
    public ByteBuffer encode(String message) {
        int bad = unpairedSurrogate(message);
        if (bad >= 0) {
            throw new EncodeException(type(), String.format(
                    "%s cannot encode a string with an unpaired surrogate U+%04X at index %d",
                    CodecException.describe(this), (int) message.charAt(bad), bad));
        }
        // Exact now: getBytes only substitutes for unpaired surrogates.
        return ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String decode(ByteBuffer body) {
        int start = body.position();
        int size = body.remaining();
        try {
            // newDecoder() reports malformed input instead of replacing it.
            return StandardCharsets.UTF_8.newDecoder().decode(body).toString();
        } catch (CharacterCodingException e) {
            throw new DecodeException(type(), String.format("%s cannot decode %d-byte body: malformed UTF-8 at byte %d",
                    CodecException.describe(this), size, body.position() - start), e);
        }
    }

    private static int unpairedSurrogate(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "utf8";
    }
}
