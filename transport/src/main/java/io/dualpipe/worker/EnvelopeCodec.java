package io.dualpipe.worker;

import io.dualpipe.core.MissingDependencyException;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.MessageCodec;
import io.dualpipe.core.internal.Jackson;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Encodes an {@link Envelope} as the JSON array {@code [request, senderPid, recipientPid, data]}
 * (recipient 0 is written as {@code null}, as pymulproc does), so a Python worker needs nothing but
 * {@code json} and {@code struct}. Stateless and thread-safe.
 *
 * <p>Envelopes are JSON, so worker pools need Jackson ({@code com.fasterxml.jackson.core:jackson-databind}),
 * an optional dependency of DualPipe: without it the constructor throws a
 * {@link MissingDependencyException} naming it.
 */
public final class EnvelopeCodec implements MessageCodec<Envelope> {
    /** The frame type byte of envelopes, 0x04: {@link Codecs} records it as taken, so no built-in will clash. */
    public static final int TYPE = Codecs.WORKER_ENVELOPE;

    /** @throws MissingDependencyException if Jackson is not on the class path */
    public EnvelopeCodec() {
        Jackson.require("worker envelopes (WorkerPool, Worker)");
    }

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
        return ByteBuffer.wrap(EnvelopeJson.write(e.request(), array));
    }

    /**
     * {@code data} as JSON, for the payload of an envelope to be encoded later (wrapped in a
     * Jackson {@code RawValue}, which this codec writes as it is). A pool calls it on the submitter's thread,
     * so that a payload JSON cannot carry fails there rather than on the loop, and so that the bytes
     * sent are fixed before the caller can change the object.
     *
     * @throws EncodeException naming {@code request} if Jackson cannot serialise {@code data}
     */
    static byte[] payloadJson(String request, Object data) {
        Jackson.require("worker envelopes (WorkerPool, Worker)");
        return EnvelopeJson.write(request, data);
    }

    @Override
    public Envelope decode(ByteBuffer body) {
        byte[] bytes = new byte[body.remaining()];
        body.duplicate().get(bytes);
        List<?> list = EnvelopeJson.readList(bytes);
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
