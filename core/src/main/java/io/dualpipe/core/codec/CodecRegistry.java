package io.dualpipe.core.codec;

import io.dualpipe.core.InvalidArgumentException;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps message type bytes to {@link MessageCodec}s, and is the one place where codec failures are
 * normalised: whatever a codec throws reaches the caller as an {@link EncodeException} or
 * {@link DecodeException} carrying the type byte.
 *
 * <pre>{@code
 * CodecRegistry codecs = CodecRegistry.builder()
 *         .registerAll(Codecs.builtins())
 *         .register(Codecs.json(0x10, Order.class))
 *         .build();
 * }</pre>
 *
 * <p><b>Threading.</b> Immutable once built, and safe to share between any number of threads and
 * connections. The {@link Builder} is not thread-safe.
 *
 * <p><b>Buffers.</b> {@code encode} returns a buffer the caller owns; {@code decode} borrows the
 * body only for the duration of the call, as {@link MessageCodec#decode} does.
 */
public final class CodecRegistry {
    private final MessageCodec<?>[] byType;
    private final List<MessageCodec<?>> codecs;
    // Per message class: the codec encode(Object) uses, or a String saying why there is none.
    private final ClassValue<Object> byClass = new ClassValue<>() {
        @Override
        protected Object computeValue(Class<?> cls) {
            return resolve(cls);
        }
    };

    private CodecRegistry(Builder builder) {
        this.byType = builder.byType.clone();
        this.codecs = List.copyOf(builder.codecs);
    }

    /** {@return a new, empty builder} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the registered codecs, in registration order (an immutable list)} */
    public List<MessageCodec<?>> codecs() {
        return codecs;
    }

    /**
     * The codec for a type byte.
     *
     * @param type the type byte, 0..255
     * @return the codec registered for it
     * @throws UnknownTypeException if none is registered
     * @throws InvalidArgumentException if {@code type} is not in 0..255
     */
    public MessageCodec<?> codec(int type) {
        if (type < 0 || type > 0xff) {
            throw new InvalidArgumentException("type not in 0..255: " + type);
        }
        MessageCodec<?> codec = byType[type];
        if (codec == null) {
            throw new UnknownTypeException(type);
        }
        return codec;
    }

    /**
     * The codec {@link #encode(Object)} uses for messages of class {@code cls}: among the codecs
     * whose {@link MessageCodec#javaType()} {@code cls} is assignable to, the one with the most
     * specific javaType. So with the built-ins a {@code String} goes to utf8, and a {@code Map} to json.
     *
     * @param cls the class of a message
     * @return the codec for it
     * @throws InvalidArgumentException if no codec takes {@code cls}, or two are equally specific
     */
    public MessageCodec<?> codecFor(Class<?> cls) {
        InvalidArgumentException.requireNonNull("cls", cls);
        Object found = byClass.get(cls);
        if (found instanceof String why) {
            throw new InvalidArgumentException(why);
        }
        return (MessageCodec<?>) found;
    }

    /**
     * Encodes with the codec {@link #codecFor(Class) chosen by the message's class}; that codec's
     * {@code type()} is the byte to put in the frame header.
     *
     * @param message the message, not null
     * @return the body, a buffer the caller owns
     * @throws InvalidArgumentException if {@code message} is null or its class has no single codec
     * @throws EncodeException if the codec fails
     */
    public ByteBuffer encode(Object message) {
        InvalidArgumentException.requireNonNull("message", message);
        return encode(codecFor(message.getClass()), message);
    }

    /**
     * Encodes with the codec registered for {@code type}.
     *
     * @param type    the type byte, 0..255
     * @param message the message, an instance of the codec's javaType (or null, if the codec takes it)
     * @return the body, a buffer the caller owns
     * @throws UnknownTypeException if none is registered
     * @throws EncodeException if the message is not of the codec's javaType, or the codec fails
     */
    public ByteBuffer encode(int type, Object message) {
        MessageCodec<?> codec = codec(type);
        if (message != null && !codec.javaType().isInstance(message)) {
            throw new EncodeException(type, CodecException.describe(codec) + " encodes "
                    + codec.javaType().getName() + ", not " + message.getClass().getName());
        }
        return encode(codec, message);
    }

    /**
     * Decodes a body with the codec registered for {@code type}. The body is borrowed for the call.
     *
     * @param type the type byte from the frame header, 0..255
     * @param body the frame's body, borrowed for this call
     * @return the message
     * @throws UnknownTypeException if none is registered
     * @throws DecodeException if the codec rejects the body or fails
     */
    public Object decode(int type, ByteBuffer body) {
        MessageCodec<?> codec = codec(type);
        int size = body.remaining();
        try {
            return codec.decode(body);
        } catch (DecodeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DecodeException(type, CodecException.describe(codec) + " failed on "
                    + size + "-byte body: " + e, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static ByteBuffer encode(MessageCodec<?> codec, Object message) {
        ByteBuffer body;
        try {
            body = ((MessageCodec<Object>) codec).encode(message);
        } catch (EncodeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new EncodeException(codec.type(), CodecException.describe(codec) + " failed to encode "
                    + (message == null ? "null" : message.getClass().getName()) + ": " + e, e);
        }
        if (body == null) {
            throw new EncodeException(codec.type(), CodecException.describe(codec) + " returned null");
        }
        return body;
    }

    private Object resolve(Class<?> cls) {
        List<MessageCodec<?>> candidates = new ArrayList<>();
        for (MessageCodec<?> codec : codecs) {
            if (codec.javaType().isAssignableFrom(cls)) {
                candidates.add(codec);
            }
        }
        List<MessageCodec<?>> mostSpecific = new ArrayList<>();
        for (MessageCodec<?> c : candidates) {
            boolean beaten = false;
            for (MessageCodec<?> other : candidates) {
                Class<?> mine = c.javaType();
                Class<?> theirs = other.javaType();
                beaten |= theirs != mine && mine.isAssignableFrom(theirs);
            }
            if (!beaten) {
                mostSpecific.add(c);
            }
        }
        if (mostSpecific.size() == 1) {
            return mostSpecific.get(0);
        }
        if (mostSpecific.isEmpty()) {
            return "no codec for " + cls.getName();
        }
        StringBuilder why = new StringBuilder(mostSpecific.size() + " codecs equally fit " + cls.getName() + ":");
        for (MessageCodec<?> c : mostSpecific) {
            why.append(' ').append(CodecException.describe(c)).append(" for ").append(c.javaType().getName()).append(';');
        }
        return why.append(" pass the type byte to encode(int, Object)").toString();
    }

    /**
     * Collects codecs for a {@link CodecRegistry}. Not thread-safe; {@link #build()} takes a
     * snapshot, so the builder may go on being used afterwards.
     */
    public static final class Builder {
        private final MessageCodec<?>[] byType = new MessageCodec<?>[256];
        private final List<MessageCodec<?>> codecs = new ArrayList<>();

        private Builder() {
        }

        /**
         * Adds a codec under its {@link MessageCodec#type() type byte}.
         *
         * @param codec the codec
         * @return this builder
         * @throws InvalidArgumentException if the codec's type is outside 1..255 (0x00 is reserved),
         *     it has no javaType, or another codec already has its type byte
         */
        public Builder register(MessageCodec<?> codec) {
            InvalidArgumentException.requireNonNull("codec", codec);
            int type = codec.type();
            if (type < 0 || type > 0xff) {
                throw new InvalidArgumentException("codec type not in 0..255: " + type + " (" + codec + ")");
            }
            if (type == Codecs.RESERVED) {
                throw new InvalidArgumentException("codec type 0x00 is reserved (" + codec + ")");
            }
            InvalidArgumentException.requireNonNull("javaType of " + CodecException.describe(codec), codec.javaType());
            MessageCodec<?> existing = byType[type];
            if (existing != null) {
                throw new InvalidArgumentException(String.format("type 0x%02x registered twice: %s and %s",
                        type, existing, codec));
            }
            byType[type] = codec;
            codecs.add(codec);
            return this;
        }

        /**
         * {@link #register Registers} each codec in turn; on a failure, the ones before it stay
         * registered.
         *
         * @param codecs the codecs, e.g. {@link Codecs#builtins()}
         * @return this builder
         * @throws InvalidArgumentException as {@link #register} does, or if {@code codecs} is null
         */
        public Builder registerAll(Iterable<? extends MessageCodec<?>> codecs) {
            InvalidArgumentException.requireNonNull("codecs", codecs);
            for (MessageCodec<?> codec : codecs) {
                register(codec);
            }
            return this;
        }

        /** {@return an immutable registry of the codecs registered so far} */
        public CodecRegistry build() {
            return new CodecRegistry(this);
        }
    }
}
