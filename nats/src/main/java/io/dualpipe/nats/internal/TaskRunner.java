package io.dualpipe.nats.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.internal.LogLimiter;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.worker.UnexpectedReplyException;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs the tasks an agent pulled: each on a local worker ({@link WorkerTasks}), with heartbeats ({@code inProgress})
 * while it runs; then publishes its result to the submitter's result subject and acknowledges the
 * task only once JetStream has stored the result. A task whose worker died is handed back
 * ({@code nak}), or, at its last delivery, answered with a FAILED result and terminated.
 * Thread-safe: {@link #start} on the pulling thread, the rest on the agent's results thread, the
 * heartbeats on its timer thread.
 */
public final class TaskRunner {
    private static final Logger LOG = LoggerFactory.getLogger(TaskRunner.class);
    // Whoever may publish on the task subjects decides how often these are logged: a message without
    // headers bounded per subject, a poison task's failure per kind of cause.
    private static final LogLimiter HEADERLESS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final LogLimiter FAILED_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String agent;
    private final JetStream js;
    private final Connection conn;
    private final WorkerTasks workers;
    private final ExecutorService results;
    private final ScheduledExecutorService timer;
    private final long maxDeliver;
    private final long heartbeatMillis;
    private final Duration redeliveryDelay;
    private final Duration publishTimeout;
    private final Runnable onDone;
    private final AtomicInteger held = new AtomicInteger();
    /** The tasks running now, for a heartbeat of them all at once. */
    private final Map<String, Message> running = new ConcurrentHashMap<>();

    /** {@code onDone} runs once per task, when it is neither running nor waiting to be answered any more. */
    public TaskRunner(String agent, JetStream js, Connection conn, WorkerTasks workers, ExecutorService results, ScheduledExecutorService timer,
                      long maxDeliver, long heartbeatMillis, Duration redeliveryDelay, Duration publishTimeout, Runnable onDone) {
        this.agent = agent;
        this.js = js;
        this.conn = conn;
        this.workers = workers;
        this.results = results;
        this.timer = timer;
        this.maxDeliver = maxDeliver;
        this.heartbeatMillis = heartbeatMillis;
        this.redeliveryDelay = redeliveryDelay;
        this.publishTimeout = publishTimeout;
        this.onDone = onDone;
    }

    /** Tasks held now: pulled, not yet acknowledged or handed back. */
    public int held() {
        return held.get();
    }

    /** Runs the task {@code m}; on the pulling thread. */
    public void start(Message m) {
        String taskId = Wire.header(m, Wire.TASK);
        String reply = Wire.header(m, Wire.REPLY);
        long delivered = m.metaData().deliveredCount();
        held.incrementAndGet();
        if (taskId == null || reply == null) {
            long notLogged = HEADERLESS_LOGGED.acquire(m.getSubject());
            if (notLogged >= 0) {
                LOG.warn("agent {}: message without {} / {} headers on {}: terminated{}", agent, Wire.TASK, Wire.REPLY, m.getSubject(),
                        LogLimiter.note(notLogged));
            } else {
                LOG.debug("agent {}: message without {} / {} headers on {}: terminated", agent, Wire.TASK, Wire.REPLY, m.getSubject());
            }
            m.term();
            done(null);
            return;
        }
        if (delivered > maxDeliver) {
            // the previous holder died before it could say so (an agent SIGKILLed at the last delivery)
            fail(m, taskId, reply, delivered, null, "task " + taskId + " delivered " + delivered + " times: its worker or agent died on each of"
                    + " maxDeliver " + maxDeliver + " deliveries before answering");
            return;
        }
        running.put(taskId, m);
        ScheduledFuture<?> heartbeat = timer.scheduleAtFixedRate(() -> heartbeat(m, taskId), heartbeatMillis, heartbeatMillis, TimeUnit.MILLISECONDS);
        CompletableFuture<Object> run;
        try {
            // the body is JSON already: a RawValue goes to the worker as it is
            run = workers.submit(new WorkerTasks.Held(taskId, Wire.header(m, Wire.PROGRESS)),
                    new RawValue(new String(m.getData(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            run = CompletableFuture.failedFuture(e);
        }
        run.whenCompleteAsync((result, e) -> finish(m, taskId, reply, delivered, heartbeat, result, e), results);
    }

    /**
     * A heartbeat for every task running, now: after a reconnection, so that the time since the last
     * one that reached the server is not the outage plus up to a whole period more.
     */
    public void heartbeatAll() {
        running.forEach((taskId, m) -> heartbeat(m, taskId));
    }

    /**
     * One heartbeat. It must not throw: a periodic task that throws is never run again, and the task
     * would then be delivered again while it still runs (one that could not be sent, the server away
     * and the reconnect buffer full, is followed by the next).
     */
    private void heartbeat(Message m, String taskId) {
        try {
            m.inProgress();
        } catch (RuntimeException e) {
            LOG.debug("agent {}: heartbeat of task {} not sent ({}); the next one follows", agent, taskId, e.toString());
        }
    }

    private void finish(Message m, String taskId, String reply, long delivered, ScheduledFuture<?> heartbeat, Object result, Throwable e) {
        running.remove(taskId, m);
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        try {
            if (cause == null) {
                publishResult(m, taskId, reply, heartbeat, headers(taskId, Wire.FINISHED), JSON.writeValueAsBytes(result));
            } else if (cause instanceof RemoteException r) {
                publishResult(m, taskId, reply, heartbeat, headers(taskId, Wire.ERROR), r.remoteText().getBytes(StandardCharsets.UTF_8));
            } else if (cause instanceof UnexpectedReplyException u && u.reply() != null) {
                publishResult(m, taskId, reply, heartbeat, headers(taskId, Wire.UNEXPECTED).add(Wire.WORD, u.reply().request()),
                        JSON.writeValueAsBytes(u.reply().data()));
            } else if (delivered >= maxDeliver) {
                heartbeat.cancel(false);
                fail(m, taskId, reply, delivered, cause, "task " + taskId + " failed on each of maxDeliver " + maxDeliver
                        + " deliveries; the last, on agent " + agent + ": " + cause);
            } else {
                heartbeat.cancel(false);
                LOG.debug("agent {}: task {} (delivery {}) handed back: {}", agent, taskId, delivered, cause.toString());
                m.nakWithDelay(redeliveryDelay);
                done(null);
            }
        } catch (JsonProcessingException je) {
            fail(m, taskId, reply, delivered, je, "task " + taskId + ": result not JSON-serialisable: " + je.getOriginalMessage());
        }
    }

    private void fail(Message m, String taskId, String reply, long delivered, Throwable cause, String text) {
        if (cause != null) {
            long notLogged = FAILED_LOGGED.acquire(cause.getClass());
            if (notLogged >= 0) {
                LOG.warn("agent {}: {}{}", agent, text, LogLimiter.note(notLogged));
            } else {
                LOG.debug("agent {}: {}", agent, text);
            }
        }
        Headers h = headers(taskId, Wire.FAILED).add(Wire.DELIVERIES, Long.toString(delivered));
        publish(reply, taskId, h, text.getBytes(StandardCharsets.UTF_8), System.nanoTime() + publishTimeout.toNanos(), 1,
                ok -> {
                    if (ok) {
                        m.term(); // a poison task: JetStream drops it
                    }
                    done(null);
                });
    }

    private void publishResult(Message m, String taskId, String reply, ScheduledFuture<?> heartbeat, Headers h, byte[] body) {
        long max = conn.getMaxPayload();
        if (body.length > max - Wire.HEADER_ROOM) {
            // NATS would refuse it on every delivery: the submitter hears it at once, typed, and the task is done
            String status = h.getFirst(Wire.STATUS);
            if (Wire.ERROR.equals(status)) {
                body = truncate(body, (int) (max - Wire.HEADER_ROOM));
            } else {
                h = headers(taskId, Wire.TOO_BIG);
                body = ("task " + taskId + ": its worker's " + status + " answer of " + body.length + " bytes (JSON) is over the server's"
                        + " max_payload " + max + " less " + Wire.HEADER_ROOM + " bytes of headers (agent " + agent + ")")
                        .getBytes(StandardCharsets.UTF_8);
            }
        }
        publish(reply, taskId, h, body, System.nanoTime() + publishTimeout.toNanos(), 1, ok -> {
            if (ok) {
                m.ack(); // only now: a result JetStream stored cannot be lost with the task
            } // else: not acknowledged, the task is delivered again after the ack wait
            done(heartbeat);
        });
    }

    /** Publishes a result (message id: its task's, so JetStream keeps one copy), retrying while the server is away. */
    private void publish(String subject, String taskId, Headers h, byte[] body, long giveUpBy, int attempt, Consumer<Boolean> then) {
        CompletableFuture<PublishAck> ack;
        try {
            ack = js.publishAsync(subject, h, body, PublishOptions.builder().messageId("result." + taskId).streamTimeout(Duration.ofSeconds(2)).build());
        } catch (RuntimeException e) {
            ack = CompletableFuture.failedFuture(e);
        }
        ack.whenCompleteAsync((a, e) -> {
            if (e == null) {
                then.accept(true);
            } else if (System.nanoTime() - giveUpBy < 0 && conn.getStatus() != Connection.Status.CLOSED) {
                timer.schedule(() -> results.execute(() -> publish(subject, taskId, h, body, giveUpBy, attempt + 1, then)),
                        Math.min(500, 20L << Math.min(attempt, 4)), TimeUnit.MILLISECONDS);
            } else {
                LOG.warn("agent {}: result of task {} not stored by JetStream ({}): the task will be delivered again", agent, taskId, e.toString());
                then.accept(false);
            }
        }, results);
    }

    /** The start of an error text that fits {@code room} bytes, saying it was cut. */
    private static byte[] truncate(byte[] text, int room) {
        byte[] note = ("... (" + text.length + " bytes, cut to the server's max_payload)").getBytes(StandardCharsets.UTF_8);
        byte[] out = java.util.Arrays.copyOf(text, Math.max(0, room - note.length));
        String head = new String(out, StandardCharsets.UTF_8); // a character cut in two becomes U+FFFD
        byte[] headBytes = head.getBytes(StandardCharsets.UTF_8);
        if (headBytes.length + note.length > room) {
            headBytes = java.util.Arrays.copyOf(headBytes, Math.max(0, room - note.length));
        }
        byte[] joined = java.util.Arrays.copyOf(headBytes, headBytes.length + note.length);
        System.arraycopy(note, 0, joined, headBytes.length, note.length);
        return joined;
    }

    private Headers headers(String taskId, String status) {
        return new Headers().add(Wire.TASK, taskId).add(Wire.STATUS, status).add(Wire.AGENT, agent);
    }

    private void done(ScheduledFuture<?> heartbeat) {
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        held.decrementAndGet();
        onDone.run();
    }
}
