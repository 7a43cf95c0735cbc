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
 * The Jackson half of {@link JsonCodec}: the only class of this package that names Jackson's types,
 * loaded once Jackson is known to be there (it is an optional dependency). Thread-safe, as
 * Jackson's readers and writers are once built.
 */
final class JacksonJson<T> {
    // Built on first use of a JSON codec, not when Codecs is loaded: an ObjectMapper is not cheap.
    private static final class Default {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private final JsonCodec<T> codec;
    private final ObjectReader reader;
    private final ObjectWriter writer;

    /** {@code mapper} is the application's ObjectMapper, or null for a default one. */
    JacksonJson(JsonCodec<T> codec, Object mapper) {
        ObjectMapper m = mapper == null ? Default.MAPPER : (ObjectMapper) mapper;
        this.codec = codec;
        this.reader = m.readerFor(codec.javaType()).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        // The runtime class, not javaType: a subclass instance keeps its own properties.
        this.writer = m.writer();
    }

    ByteBuffer encode(T message) {
        try {
            return ByteBuffer.wrap(writer.writeValueAsBytes(message));
        } catch (JsonProcessingException e) {
            String what = message == null ? "null" : message.getClass().getName();
            throw new EncodeException(codec.type(), CodecException.describe(codec) + " cannot encode " + what + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    T decode(ByteBuffer body) {
        int size = body.remaining();
        try {
            if (body.hasArray()) {
                return reader.readValue(body.array(), body.arrayOffset() + body.position(), size);
            }
            return reader.readValue(new ByteBufferBackedInputStream(body));
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString();
            throw new DecodeException(codec.type(), CodecException.describe(codec) + " cannot decode " + size + "-byte body as "
                    + codec.javaType().getSimpleName() + ": " + why, e);
        }
    }
}
