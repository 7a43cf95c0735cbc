package io.dualpipe.nats.internal;

import io.dualpipe.nats.StreamUnavailableException;
import io.dualpipe.worker.Envelope;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.Options;
import io.nats.client.impl.Headers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One submitter's hold on its pool, the counterpart of the agent's {@link AgentLink}: the
 * connection (reconnecting for ever), the streams and the agents' consumer set up unless another
 * side did, the {@link TaskPublisher} that stores its tasks, the {@link ResultReader}'s subscription
 * to its results and its workers' envelopes, and the one daemon thread, named after the submitter,
 * that runs the publisher's retries, the result timeouts and the shutdown's DIE. The
 * {@code NatsWorkerPool} facade keeps the lifecycle (which calls are still allowed) and the order in
 * which {@code close()} takes these apart; this class holds what each step does on NATS.
 *
 * <p><b>Threading.</b> Thread-safe: built once on the thread that starts the pool; {@link #publish}
 * and {@link #sendControl} are called from any submitting thread (the NATS client's connection is
 * thread-safe), {@link #sendDie} on {@link #timer()}'s thread, and the closing steps on the thread
 * calling {@code close()}. {@link #open} and {@link #unsubscribe} wait for the server's answers
 * (bounded by the client's timeouts; {@code open}'s confirmation of its subscriptions by
 * {@code publishTimeout}), {@link #sendDie} for its confirmation, up to its timeout;
 * {@link #publish} and {@link #sendControl} never wait for the server.
 */
public final class SubmitterLink {
    private final Layout layout;
    private final Connection conn;
    private final ScheduledExecutorService timer;
    private final ResultReader reader;
    private final TaskPublisher publisher;

    private SubmitterLink(Layout layout, Connection conn, ScheduledExecutorService timer, ResultReader reader, TaskPublisher publisher) {
        this.layout = layout;
        this.conn = conn;
        this.timer = timer;
        this.reader = reader;
        this.publisher = publisher;
    }

    /**
     * Connects submitter {@code submitter} to {@code server} (or with the caller's {@code options}, if
     * not null), sets up the pool's streams and consumer with {@code limits} unless they exist,
     * starts its timer thread and subscribes {@code reader} to its results and envelopes, and waits
     * up to {@code publishTimeout} until the server confirms those subscriptions. A set-up that fails
     * stops the thread and closes the connection it opened.
     *
     * @param closed true once the pool is closed: the publisher then stops retrying
     * @throws StreamUnavailableException if the server cannot be reached, refuses the set-up, or does
     *                                    not confirm the subscriptions within {@code publishTimeout}
     */
    public static SubmitterLink open(String submitter, String server, Options options, Layout layout, Layout.Limits limits,
                                     Pending pending, ResultReader reader, Duration waitForRoom, Duration publishTimeout,
                                     Duration abandonedAfter, Consumer<Envelope> onMessage, BooleanSupplier closed) {
        Connect connect;
        try {
            connect = Connect.open(server, options, "dualpipe-submitter-" + submitter);
        } catch (IOException e) {
            throw new StreamUnavailableException("cannot connect to NATS at " + (options != null ? options.getServers() : server) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StreamUnavailableException("interrupted while connecting to NATS", e);
        }
        Connection conn = connect.connection();
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "dualpipe-nats-submitter-" + submitter);
            t.setDaemon(true); // a submitter the application forgot to close must not keep its JVM alive
            return t;
        });
        timer.setRemoveOnCancelPolicy(true); // a result timeout per task: cancelled ones must not pile up
        try {
            JetStream js = conn.jetStream();
            String described = Layout.describeLimits(layout.ensure(conn.jetStreamManagement(), limits));
            TaskPublisher publisher = new TaskPublisher(js, layout, submitter, pending, timer, waitForRoom, publishTimeout, closed,
                    described);
            reader.subscribe(conn, js, layout, abandonedAfter, onMessage);
            // The client sends a plain subscription's SUB without waiting for the server: until the
            // server has it, what is published on its subject (a worker's progress, an agent's
            // envelope, the answer to a broadcast) reaches nobody, so a caller who publishes, or whose
            // agents do, right after start() would lose it. The server answers a flush's PING after
            // every SUB sent before it, so once it returns the subscriptions are live.
            conn.flush(publishTimeout);
            return new SubmitterLink(layout, conn, timer, reader, publisher);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            throw failed(timer, conn, reader, layout, "cannot set up pool \"" + layout.pool() + "\" on NATS: " + e.getMessage(), e);
        } catch (TimeoutException e) {
            throw failed(timer, conn, reader, layout, "cannot set up pool \"" + layout.pool() + "\" on NATS: the server did not confirm submitter "
                    + submitter + "'s subscriptions within publishTimeout " + publishTimeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failed(timer, conn, reader, layout, "interrupted while subscribing submitter " + submitter + " to pool \"" + layout.pool()
                    + "\" on NATS", e);
        }
    }

    /** {@return the error a failed set-up throws, once it has stopped the timer thread and closed the connection} */
    private static StreamUnavailableException failed(ScheduledThreadPoolExecutor timer, Connection conn, ResultReader reader,
                                                     Layout layout, String message, Exception cause) {
        timer.shutdownNow();
        // A failure after the subscription (the flush) leaves a durable consumer on the server for
        // abandonedAfter, one per failed start: delete it while the connection is still there.
        reader.unsubscribe(conn, layout);
        Connect.closeQuietly(conn);
        return new StreamUnavailableException(message, cause);
    }

    /** {@return the largest message the server takes, for checking a payload before it is sent} */
    public long maxPayload() {
        return conn.getMaxPayload();
    }

    /** {@return the submitter's one timer thread: retries, result timeouts, the DIE} */
    public ScheduledExecutorService timer() {
        return timer;
    }

    /** Starts storing task {@code taskId}; a store that fails fails the task in {@link Pending}. */
    public void publish(String taskId, byte[] json) {
        publisher.publish(taskId, json);
    }

    /**
     * Sends the one-way envelope {@code word} to every agent on the pool's control subject (core
     * NATS: not stored, agents connected now get it).
     *
     * @throws IllegalStateException from the client when the connection cannot take it now
     */
    public void sendControl(String word, byte[] json) {
        conn.publish(layout.controlSubject(), new Headers().add(Wire.WORD, word), json);
    }

    /**
     * Sends DIE to every agent and waits until the server has it: the flush is what tells the
     * shutdown that the agents can get it.
     *
     * @throws TimeoutException     when the server has not confirmed it within {@code publishTimeout}
     * @throws InterruptedException when interrupted while waiting
     */
    public void sendDie(Duration publishTimeout) throws TimeoutException, InterruptedException {
        sendControl(Envelope.DIE, "null".getBytes(StandardCharsets.UTF_8));
        conn.flush(publishTimeout);
    }

    /** Ends the result subscription and deletes its consumer, if the server is there. */
    public void unsubscribe() {
        reader.unsubscribe(conn, layout);
    }

    /** Stops the timer thread: retries and result timeouts still scheduled are dropped. */
    public void stopTimer() {
        timer.shutdownNow();
    }

    /** Closes the connection, last: the steps before it may still need it. */
    public void closeConnection() {
        Connect.closeQuietly(conn);
    }
}
