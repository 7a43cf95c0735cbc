package io.dualpipe.nats.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.worker.EnvelopeCodec;

/**
 * Encodes what a submitter publishes (a task, a broadcast) as JSON that fits the server's
 * {@code max_payload} with room for the headers. Thread-safe (Jackson's mapper is).
 */
public final class Payloads {
    /** Bytes kept free of {@code max_payload} for the headers a task or broadcast carries. */
    public static final int HEADER_ROOM = 512;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Payloads() {
    }

    /**
     * {@code data} as JSON.
     *
     * @param what names the payload in the error ("task payload", "broadcast CONFIG: payload")
     * @throws EncodeException if JSON cannot carry {@code data}, or it is over {@code maxPayload} less
     *         {@link #HEADER_ROOM}
     */
    public static byte[] encode(String what, Object data, long maxPayload) {
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(data);
        } catch (JsonProcessingException e) {
            throw new EncodeException(EnvelopeCodec.TYPE, what + " is not JSON-serialisable: " + e.getOriginalMessage(), e);
        }
        if (json.length > maxPayload - HEADER_ROOM) {
            throw new EncodeException(EnvelopeCodec.TYPE, what + " of " + json.length + " bytes > the server's max_payload "
                    + maxPayload + " less " + HEADER_ROOM + " bytes of headers");
        }
        return json;
    }
}
