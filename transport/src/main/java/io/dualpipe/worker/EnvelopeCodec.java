package io.dualpipe.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.MessageCodec;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Encodes an {@link Envelope} as the JSON array {@code [request, senderPid, recipientPid, data]}
 * (recipient 0 is written as {@code null}, as pymulproc does), so a Python worker needs nothing but
 * {@code json} and {@code struct}. Stateless and thread-safe.
 */
public final class EnvelopeCodec implements MessageCodec<Envelope> {
    /** The frame type byte of envelopes, 0x04: {@link Codecs} records it as taken, so no built-in will clash. */
    public static final int TYPE = Codecs.WORKER_ENVELOPE;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public int type() {
        return TYPE;
    }

    @Override
    public Class<Envelope> javaType() {
        return Envelope.class;
    }

    @Override
    public ByteBuffer encode(Envelope e) {
        Object[] array = {e.request(), e.senderPid(), e.recipientPid() == 0 ? null : e.recipientPid(), e.data()};
        try {
            return ByteBuffer.wrap(JSON.writeValueAsBytes(array));
        } catch (JsonProcessingException ex) {
            throw notSerialisable(e.request(), ex);
        }
    }

    /**
     * {@code data} as JSON, for the payload of an envelope to be encoded later (wrapped in a
     * {@link RawValue}, which this codec writes as it is). A pool calls it on the submitter's thread,
     * so that a payload JSON cannot carry fails there rather than on the loop, and so that the bytes
     * sent are fixed before the caller can change the object.
     *
     * @throws EncodeException naming {@code request} if Jackson cannot serialise {@code data}
     */
    static byte[] payloadJson(String request, Object data) {
        try {
            return JSON.writeValueAsBytes(data);
        } catch (JsonProcessingException ex) {
            throw notSerialisable(request, ex);
        }
    }

    private static EncodeException notSerialisable(String request, JsonProcessingException ex) {
        return new EncodeException(TYPE, "envelope " + request + ": payload is not JSON-serialisable: " + ex.getOriginalMessage(), ex);
    }

    @Override
    public Envelope decode(ByteBuffer body) {
        byte[] bytes = new byte[body.remaining()];
        body.duplicate().get(bytes);
        List<?> list;
        try {
            list = JSON.readValue(bytes, List.class);
        } catch (IOException ex) {
            throw new DecodeException(TYPE, "envelope is not a JSON array: " + ex.getMessage(), ex);
        }
        if (list == null || list.size() != 4) {
            throw new DecodeException(TYPE, "envelope must be [request, senderPid, recipientPid, data], got "
                    + (list == null ? "null" : list.size() + " elements: " + Arrays.toString(list.toArray())), null);
        }
        if (!(list.get(0) instanceof String) || !(list.get(1) instanceof Number)
                || (list.get(2) != null && !(list.get(2) instanceof Number))) {
            throw new DecodeException(TYPE, "envelope fields must be [string, number, number|null, any]: " + list);
        }
        long recipient = list.get(2) == null ? 0 : ((Number) list.get(2)).longValue();
        try {
            return new Envelope((String) list.get(0), ((Number) list.get(1)).longValue(), recipient, list.get(3));
        } catch (RuntimeException ex) {
            throw new DecodeException(TYPE, "envelope " + list + ": " + ex.getMessage(), ex);
        }
    }
}
