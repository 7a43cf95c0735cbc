package io.dualpipe.core.codec;

import io.dualpipe.core.MissingDependencyException;
import io.dualpipe.core.internal.Jackson;

import java.nio.ByteBuffer;

/**
 * The body is one JSON value in UTF-8, read and written by Jackson. Trailing bytes after the value
 * are an error whatever the mapper says: a body is exactly one value. Thread-safe.
 *
 * <p>Jackson is an optional dependency, and {@link Codecs#builtins()} holds a JSON codec, so this
 * class names none of Jackson's types (see {@link Jackson}): the Jackson half is built on first use.
 * Without Jackson, encoding fails with an {@link EncodeException} and decoding with a
 * {@link DecodeException}, each caused by a {@link MissingDependencyException} naming what to add:
 * the message fails, the channel goes on.
 */
final class JsonCodec<T> implements MessageCodec<T> {
    static final JsonCodec<Object> ANY = new JsonCodec<>(Codecs.JSON, Object.class, null);

    private final int type;
    private final Class<T> javaType;
    /** The application's ObjectMapper (typed Object so that this class loads without Jackson), or null. */
    private final Object mapper;
    private volatile JacksonJson<T> jackson;

    JsonCodec(int type, Class<T> javaType, Object mapper) {
        this.type = type;
        this.javaType = javaType;
        this.mapper = mapper;
    }

    @Override
    public int type() {
        return type;
    }

    @Override
    public Class<T> javaType() {
        return javaType;
    }

    @Override
    public ByteBuffer encode(T message) {
        if (!Jackson.present()) {
            MissingDependencyException e = Jackson.missing("the JSON codec");
            throw new EncodeException(type, CodecException.describe(this) + " cannot encode: " + e.getMessage(), e);
        }
        return jackson().encode(message);
    }

    @Override
    public T decode(ByteBuffer body) {
        if (!Jackson.present()) {
            MissingDependencyException e = Jackson.missing("the JSON codec");
            throw new DecodeException(type, CodecException.describe(this) + " cannot decode a " + body.remaining()
                    + "-byte body: " + e.getMessage(), e);
        }
        return jackson().decode(body);
    }

    private JacksonJson<T> jackson() {
        JacksonJson<T> j = jackson;
        if (j == null) {
            // A race builds two equal readers; harmless, and cheaper than a lock on every call.
            jackson = j = new JacksonJson<>(this, mapper);
        }
        return j;
    }

    @Override
    public String toString() {
        return "json<" + javaType.getSimpleName() + ">";
    }
}
