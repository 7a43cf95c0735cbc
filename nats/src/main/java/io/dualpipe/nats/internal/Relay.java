package io.dualpipe.nats.internal;

import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.internal.LogLimiter;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.EnvelopeCodec;
import io.dualpipe.worker.WorkerPool;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The core-NATS traffic between a pool's submitters and one agent's local workers, both ways.
 * Broadcasts on the pool's control subject go to every local worker, except DIE, which drains the
 * agent instead. An envelope a worker sends on its own (progress) goes to the submitter of the one
 * task that worker runs, with the task's id, or to every submitter when it runs none or several
 * ({@link WorkerTasks} knows which). Neither direction is stored by the server, so a side that is
 * not connected at the time misses it; and neither throws at its caller, as the threads it runs on
 * serve other work. Thread-safe: control messages are taken on the agent's NATS dispatcher thread,
 * {@link #onProgress} runs on the local pool's loop thread.
 */
public final class Relay {
    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);
    // Any client that may publish on the control subject decides how often this is logged: per kind of error.
    private static final LogLimiter BROADCASTS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final EnvelopeCodec ENVELOPES = new EnvelopeCodec();

    private final String agent;
    private final Layout layout;
    private final Connection conn;
    private final Runnable drain;
    private volatile WorkerPool pool;
    // null until attach(): the pool is built with onProgress as its listener, so a worker may speak before the pool exists
    private volatile WorkerTasks tasks;

    /** {@code drain} is what DIE on the control subject does: the agent's drain. */
    public Relay(String agent, Layout layout, Connection conn, Runnable drain) {
        this.agent = agent;
        this.layout = layout;
        this.conn = conn;
        this.drain = drain;
    }

    /**
     * Takes the started local pool and the book of its tasks, and begins hearing the control subject:
     * a broadcast needs a pool to go to, and a DIE an agent whose drain can run.
     */
    public void attach(WorkerPool localPool, WorkerTasks workerTasks) {
        this.pool = localPool;
        this.tasks = workerTasks;
        conn.createDispatcher(this::onControl).subscribe(layout.controlSubject());
    }

    /** A broadcast, or DIE, from a submitter; on the agent's NATS dispatcher thread. */
    private void onControl(Message m) {
        String word = Wire.header(m, Wire.WORD);
        if (word == null || word.isEmpty()) {
            return;
        }
        if (word.equals(Envelope.DIE)) {
            drain.run();
            return;
        }
        try {
            pool.broadcast(word, new RawValue(new String(m.getData(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            long notLogged = BROADCASTS_LOGGED.acquire(e.getClass());
            if (notLogged >= 0) {
                LOG.warn("agent {}: broadcast \"{}\" not passed to the workers: {}{}", agent, word, e.toString(), LogLimiter.note(notLogged));
            } else {
                LOG.debug("agent {}: broadcast \"{}\" not passed to the workers: {}", agent, word, e.toString());
            }
        }
    }

    /**
     * An envelope a worker sent on its own, on the pool's loop thread: to the submitter of the one task
     * the worker runs, with that task's id; to every submitter when it runs none (or several).
     */
    public void onProgress(Envelope e) {
        try {
            ByteBuffer b = ENVELOPES.encode(e);
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            WorkerTasks book = tasks;
            WorkerTasks.Held task = book == null ? null : book.soleTaskOf(e.senderPid());
            Headers h = new Headers().add(Wire.AGENT, agent);
            if (task != null) {
                h.add(Wire.TASK, task.taskId());
            }
            String subject = task != null && task.progressSubject() != null ? task.progressSubject() : layout.messagesSubject(agent);
            conn.publish(subject, h, bytes);
        } catch (RuntimeException ex) {
            LOG.debug("agent {}: envelope {} of worker {} not published: {}", agent, e.request(), e.senderPid(), ex.toString());
        }
    }
}
