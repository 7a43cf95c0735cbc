package io.dualpipe.core.message.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.MessageCodec;
import io.dualpipe.core.codec.UnknownTypeException;
import io.dualpipe.core.message.MessageHandler;

import java.nio.ByteBuffer;

/**
 * Handlers by type byte, plus an optional catch-all. Immutable: a change makes a new table, which the
 * channel publishes through a volatile field, so the loop reads it without locking.
 */
final class HandlerTable {
    static final HandlerTable EMPTY = new HandlerTable(new Entry[256], null);

    private final Entry[] byType;
    private final Entry any;

    private HandlerTable(Entry[] byType, Entry any) {
        this.byType = byType;
        this.any = any;
    }

    Entry lookup(int type) {
        Entry e = byType[type];
        return e != null ? e : any;
    }

    /**
     * A copy with {@code handler} for {@code type}, replacing any earlier one.
     *
     * @throws InvalidArgumentException if {@code type} is outside 1..255, the registry has no codec for
     *     it, or the codec's class and {@code messageClass} are unrelated (no message could reach it);
     *     {@code messageClass} {@link ByteBuffer} takes any type's body undecoded
     */
    @SuppressWarnings("unchecked")
    <T> HandlerTable with(CodecRegistry codecs, int type, Class<T> messageClass, MessageHandler<? super T> handler) {
        InvalidArgumentException.requireNonNull("messageClass", messageClass);
        InvalidArgumentException.requireNonNull("handler", handler);
        if (type < 1 || type > 0xff) {
            throw new InvalidArgumentException("handler type not in 1..255: " + type);
        }
        MessageCodec<?> codec;
        try {
            codec = codecs.codec(type);
        } catch (UnknownTypeException e) {
            throw new InvalidArgumentException(String.format(
                    "no codec for type 0x%02x in the channel's registry: register a codec before a handler for its type", type));
        }
        if (messageClass == ByteBuffer.class) {
            Entry[] copy = byType.clone();
            copy[type] = new Entry((MessageHandler<Object>) handler, null, true);
            return new HandlerTable(copy, any);
        }
        Class<?> decoded = codec.javaType();
        if (!messageClass.isAssignableFrom(decoded) && !decoded.isAssignableFrom(messageClass)) {
            throw new InvalidArgumentException(String.format(
                    "handler for type 0x%02x takes %s, but codec %s decodes %s: no message could reach it",
                    type, messageClass.getName(), codec, decoded.getName()));
        }
        Entry[] copy = byType.clone();
        // A class check is needed only when the codec's class is wider than the handler's (json's Object vs Map).
        copy[type] = new Entry((MessageHandler<Object>) handler, messageClass.isAssignableFrom(decoded) ? null : messageClass, false);
        return new HandlerTable(copy, any);
    }

    /** A copy with {@code handler} taking every type that has no handler of its own. */
    HandlerTable withAny(MessageHandler<Object> handler) {
        InvalidArgumentException.requireNonNull("handler", handler);
        return new HandlerTable(byType, new Entry(handler, null, false));
    }

    /**
     * A handler and, when the codec may decode things it does not take, the class it takes;
     * {@code raw}: it takes the body undecoded, a {@link ByteBuffer} borrowed for the call.
     */
    record Entry(MessageHandler<Object> handler, Class<?> requiredClass, boolean raw) {
    }
}
