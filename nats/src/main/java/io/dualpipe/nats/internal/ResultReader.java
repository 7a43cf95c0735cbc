package io.dualpipe.nats.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.nats.TaskFailedException;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.EnvelopeCodec;
import io.dualpipe.worker.UnexpectedReplyException;
import io.nats.client.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Turns the messages a submitter receives into outcomes: a result (by its {@link Wire#STATUS}) into
 * its task's value or typed error in {@link Pending}, acknowledged afterwards; a worker's envelope
 * into a call of the submitter's listener. Runs on the submitter's NATS dispatcher thread.
 */
public final class ResultReader {
    private static final Logger LOG = LoggerFactory.getLogger(ResultReader.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final EnvelopeCodec ENVELOPES = new EnvelopeCodec();
    private final String submitter;
    private final Pending pending;

    public ResultReader(String submitter, Pending pending) {
        this.submitter = submitter;
        this.pending = pending;
    }

    /** A message of the submitter's result consumer: completes its task once, then acknowledges it. */
    public void onResult(Message m) {
        String taskId = Wire.header(m, Wire.TASK);
        String status = Wire.header(m, Wire.STATUS);
        try {
            if (taskId == null || status == null) {
                LOG.warn("{}: result without {} / {} headers on {}: dropped", submitter, Wire.TASK, Wire.STATUS, m.getSubject());
                return;
            }
            byte[] body = m.getData() == null ? new byte[0] : m.getData();
            switch (status) {
                case Wire.FINISHED -> pending.complete(taskId, JSON.readValue(body, Object.class), null);
                case Wire.ERROR -> pending.complete(taskId, null, new RemoteException("agent " + Wire.header(m, Wire.AGENT)
                        + " task " + taskId, seqOf(taskId), new String(body, StandardCharsets.UTF_8)));
                case Wire.UNEXPECTED -> {
                    String word = Wire.header(m, Wire.WORD);
                    Envelope reply = new Envelope(word == null ? "?" : word, 0, 0, JSON.readValue(body, Object.class));
                    pending.complete(taskId, null, new UnexpectedReplyException("task " + taskId + ": a worker of agent "
                            + Wire.header(m, Wire.AGENT) + " answered with \"" + reply.request() + "\": a task's reply must be "
                            + Envelope.FINISHED, reply));
                }
                case Wire.FAILED -> {
                    String d = Wire.header(m, Wire.DELIVERIES);
                    pending.complete(taskId, null, new TaskFailedException(taskId, d == null ? 0 : Long.parseLong(d),
                            new String(body, StandardCharsets.UTF_8)));
                }
                case Wire.TOO_BIG -> pending.complete(taskId, null, new EncodeException(EnvelopeCodec.TYPE,
                        new String(body, StandardCharsets.UTF_8)));
                default -> pending.complete(taskId, null, new DualPipeException("task " + taskId + ": unknown result status \"" + status + "\""));
            }
        } catch (IOException | RuntimeException e) {
            if (taskId != null) {
                pending.complete(taskId, null, new DecodeException(EnvelopeCodec.TYPE, "task " + taskId + ": result not decodable: "
                        + e.getMessage(), e));
            }
        } finally {
            m.ack();
        }
    }

    /** A worker's envelope an agent passed on: to {@code listener}, whose failure is logged, not thrown. */
    public void onMessage(Consumer<Envelope> listener, Message m) {
        try {
            listener.accept(ENVELOPES.decode(ByteBuffer.wrap(m.getData())));
        } catch (RuntimeException e) {
            LOG.warn("{}: progress listener failed on {}: {}", submitter, m.getSubject(), e.toString());
        }
    }

    private static long seqOf(String taskId) {
        try {
            return Long.parseLong(taskId.substring(taskId.lastIndexOf('.') + 1));
        } catch (RuntimeException e) {
            return 0;
        }
    }
}
