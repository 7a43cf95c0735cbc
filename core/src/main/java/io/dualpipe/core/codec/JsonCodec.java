package io.dualpipe.core.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.util.ByteBufferBackedInputStream;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The body is one JSON value in UTF-8, read and written by Jackson. Trailing bytes after the value
 * are an error whatever the mapper says: a body is exactly one value. Thread-safe, as Jackson's
 * readers and writers are once built.
 */
final class JsonCodec<T> implements MessageCodec<T> {
    // Built on first use of a JSON codec, not when Codecs is loaded: an ObjectMapper is not cheap.
    static final class Default {
        static final ObjectMapper MAPPER = new ObjectMapper();
        static final JsonCodec<Object> ANY = new JsonCodec<>(Codecs.JSON, Object.class, MAPPER);
    }

    private final int type;
    private final Class<T> javaType;
    private final ObjectReader reader;
    private final ObjectWriter writer;

    JsonCodec(int type, Class<T> javaType, ObjectMapper mapper) {
        this.type = type;
        this.javaType = javaType;
        this.reader = mapper.readerFor(javaType).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        // The runtime class, not javaType: a subclass instance keeps its own properties.
        this.writer = mapper.writer();
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
        try {
            return ByteBuffer.wrap(writer.writeValueAsBytes(message));
        } catch (JsonProcessingException e) {
            String what = message == null ? "null" : message.getClass().getName();
            throw new EncodeException(type, CodecException.describe(this) + " cannot encode " + what + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    @Override
    public T decode(ByteBuffer body) {
        int size = body.remaining();
        try {
            if (body.hasArray()) {
                return reader.readValue(body.array(), body.arrayOffset() + body.position(), size);
            }
            return reader.readValue(new ByteBufferBackedInputStream(body));
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
            throw new DecodeException(type, CodecException.describe(this) + " cannot decode " + size + "-byte body as "
                    + javaType.getSimpleName() + ": " + why, e);
        }
    }

    @Override
    public String toString() {
        return "json<" + javaType.getSimpleName() + ">";
    }
}
