package io.dualpipe.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;

import java.io.IOException;
import java.util.List;

/**
 * The Jackson half of {@link EnvelopeCodec}: with the pool's payloads (a Jackson {@code RawValue}),
 * the only code of this package that names Jackson's types, loaded once Jackson is known to be there (an
 * optional dependency). Stateless and thread-safe.
 */
final class EnvelopeJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EnvelopeJson() {
    }

    static byte[] write(String request, Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException ex) {
            throw new EncodeException(EnvelopeCodec.TYPE, "envelope " + request + ": payload is not JSON-serialisable: "
                    + ex.getOriginalMessage(), ex);
        }
    }

    static List<?> readList(byte[] bytes) {
        try {
            return JSON.readValue(bytes, List.class);
        } catch (IOException ex) {
            throw new DecodeException(EnvelopeCodec.TYPE, "envelope is not a JSON array: " + ex.getMessage(), ex);
        }
    }
}
