package io.dualpipe.core.message.internal;

import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.ReplyTypeException;

import java.nio.ByteBuffer;

/**
 * A reply's body turned into what its caller asked for: decoded by the type's codec and checked
 * against the class asked for, or, for {@link ByteBuffer}, not decoded at all (lent by the
 * {@link BodyLender} to a listener, which is done with it when it returns; a copy for a future,
 * which may be read any time later). Either way index 0 is the body's first byte and its capacity
 * is the body's length.
 * Loop thread only.
 */
final class ReplyValues {
    private ReplyValues() {
    }

    /**
     * @param replyClass the class asked for, boxed; null for any
     * @param lender     lends a {@link ByteBuffer} reply for the call; null: the caller gets a copy of its own
     * @throws io.dualpipe.core.codec.CodecException if the codec rejects the body
     * @throws ReplyTypeException if the decoded value is not a {@code replyClass}
     */
    static Object of(CodecRegistry codecs, int type, ByteBuffer body, Class<?> replyClass, BodyLender lender,
                     String channel, int requestId) {
        if (replyClass == ByteBuffer.class) {
            codecs.codec(type); // a type the registry does not know is an error, decoded or not
            return lender != null ? lender.lend(body) : copy(body);
        }
        Object value = codecs.decode(type, body);
        if (replyClass == null || replyClass.isInstance(value)) {
            return value;
        }
        throw new ReplyTypeException(String.format("%s: reply to request %d is %s (type 0x%02x), expected %s",
                channel, Integer.toUnsignedLong(requestId), value == null ? "null" : value.getClass().getName(), type,
                replyClass.getName()));
    }

    private static ByteBuffer copy(ByteBuffer body) {
        ByteBuffer b = ByteBuffer.allocate(body.remaining());
        b.put(0, body, body.position(), body.remaining());
        return b;
    }
}
