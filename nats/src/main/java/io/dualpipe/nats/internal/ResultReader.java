package io.dualpipe.nats.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.internal.CallbackFailureLog;
import io.dualpipe.core.internal.LogLimiter;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.nats.TaskFailedException;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.EnvelopeCodec;
import io.dualpipe.worker.UnexpectedReplyException;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PurgeOptions;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Turns the messages a submitter receives into outcomes: a result (by its {@link Wire#STATUS}) into
 * its task's value or typed error in {@link Pending}, acknowledged afterwards; a worker's envelope
 * into a call of the listeners; and the subscriptions that bring them. Runs on the submitter's NATS
 * dispatcher thread, but for {@link #subscribe} and {@link #unsubscribe}.
 */
public final class ResultReader {
    private static final Logger LOG = LoggerFactory.getLogger(ResultReader.class);
    // Any NATS client allowed to publish on a submitter's subjects decides how often these are logged:
    // bounded per subject, so one flooding publisher hides no other's first bad message.
    private static final LogLimiter HEADERLESS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final LogLimiter UNDECODABLE_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final CallbackFailureLog LISTENER_FAILURES = new CallbackFailureLog();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final EnvelopeCodec ENVELOPES = new EnvelopeCodec();
    private final String submitter;
    private final Pending pending;
    private volatile JetStreamSubscription results;
    private volatile Dispatcher dispatcher;

    public ResultReader(String submitter, Pending pending) {
        this.submitter = submitter;
        this.pending = pending;
    }

    /**
     * Subscribes to this submitter's results through a durable push consumer of its own (the server
     * keeps it, and the results it holds, across a restart, and pushes again once the client has
     * resubscribed), and to the workers' envelopes: those of its own tasks, and, with a pool listener,
     * those of no task from every agent. A submitter that dies without {@link #unsubscribe} is
     * forgotten after {@code abandonedAfter}.
     */
    public void subscribe(Connection conn, JetStream js, Layout layout, Duration abandonedAfter, Consumer<Envelope> onMessage)
            throws IOException, JetStreamApiException {
        Dispatcher dispatcher = conn.createDispatcher();
        this.dispatcher = dispatcher;
        String subject = layout.resultsSubject(submitter);
        ConsumerConfiguration cc = ConsumerConfiguration.builder()
                .durable(durable())
                .filterSubject(subject)
                .ackPolicy(AckPolicy.Explicit)
                .ackWait(Duration.ofSeconds(30))
                .deliverPolicy(DeliverPolicy.All)
                .maxAckPending(10_000)
                .inactiveThreshold(abandonedAfter)
                .build();
        this.results = js.subscribe(subject, dispatcher, this::onResult, false,
                PushSubscribeOptions.builder().stream(layout.resultStream()).configuration(cc).build());
        dispatcher.subscribe(layout.progressSubject(submitter), m -> onMessage(onMessage, m));
        if (onMessage != null) {
            dispatcher.subscribe(layout.messagesWildcard(), m -> onMessage(onMessage, m));
        }
    }

    /** Ends the subscription and deletes the consumer, and the results left for it; if the server is there. */
    public void unsubscribe(Connection conn, Layout layout) {
        try {
            if (conn.getStatus() == Connection.Status.CONNECTED && results != null) {
                // A subscription of a dispatcher refuses unsubscribe() (IllegalStateException), which
                // used to skip the deletes below: closing the dispatcher ends all three subscriptions.
                conn.closeDispatcher(dispatcher);
                JetStreamManagement jsm = conn.jetStreamManagement();
                jsm.deleteConsumer(layout.resultStream(), durable());
                // results that came late (a task run twice) have no reader any more
                jsm.purgeStream(layout.resultStream(), PurgeOptions.subject(layout.resultsSubject(submitter)));
            }
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            LOG.debug("{}: consumer {} not deleted ({}); the server forgets it after its inactive threshold, its results after their"
                    + " max age", submitter, durable(), e.toString());
        }
    }

    private String durable() {
        return "submitter-" + submitter;
    }

    /** A message of the submitter's result consumer: completes its task once, then acknowledges it. */
    public void onResult(Message m) {
        String taskId = Wire.header(m, Wire.TASK);
        String status = Wire.header(m, Wire.STATUS);
        try {
            if (taskId == null || status == null) {
                long notLogged = HEADERLESS_LOGGED.acquire(m.getSubject());
                if (notLogged >= 0) {
                    LOG.warn("{}: result without {} / {} headers on {}: dropped{}", submitter, Wire.TASK, Wire.STATUS, m.getSubject(),
                            LogLimiter.note(notLogged));
                } else {
                    LOG.debug("{}: result without {} / {} headers on {}: dropped", submitter, Wire.TASK, Wire.STATUS, m.getSubject());
                }
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

    /**
     * A worker's envelope an agent passed on: to the listener of the task it names (if that task
     * still waits and has one), then to {@code listener} (the pool's, or null). A listener that
     * throws is logged (bounded, per listener class), not rethrown.
     */
    public void onMessage(Consumer<Envelope> listener, Message m) {
        Envelope e;
        try {
            e = ENVELOPES.decode(ByteBuffer.wrap(m.getData()));
        } catch (RuntimeException bad) {
            long notLogged = UNDECODABLE_LOGGED.acquire(m.getSubject());
            if (notLogged >= 0) {
                LOG.warn("{}: undecodable envelope from agent {} on {}: {}{}", submitter, Wire.header(m, Wire.AGENT), m.getSubject(),
                        bad.toString(), LogLimiter.note(notLogged));
            } else {
                LOG.debug("{}: undecodable envelope from agent {} on {}: {}", submitter, Wire.header(m, Wire.AGENT), m.getSubject(), bad.toString());
            }
            return;
        }
        String taskId = Wire.header(m, Wire.TASK);
        Consumer<Envelope> own = taskId == null ? null : pending.listener(taskId);
        deliver(own, e, taskId);
        deliver(listener, e, taskId);
    }

    private void deliver(Consumer<Envelope> listener, Envelope e, String taskId) {
        if (listener == null) {
            return;
        }
        try {
            listener.accept(e);
        } catch (RuntimeException failed) {
            LISTENER_FAILURES.threw(LOG, listener, failed, "{}: listener {} failed on {} (task {})", submitter, listener, e.request(), taskId);
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
