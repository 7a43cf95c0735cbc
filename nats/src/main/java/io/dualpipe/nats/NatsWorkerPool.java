package io.dualpipe.nats;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.nats.internal.Layout;
import io.dualpipe.nats.internal.Payloads;
import io.dualpipe.nats.internal.Pending;
import io.dualpipe.nats.internal.ResultReader;
import io.dualpipe.nats.internal.SubmitterLink;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;
import io.dualpipe.worker.TaskTimeoutException;
import io.dualpipe.worker.UnexpectedReplyException;
import io.dualpipe.worker.WorkerPool;
import io.nats.client.NUID;
import io.nats.client.Options;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The {@link WorkerPool}'s shape beyond one machine: tasks go to a NATS JetStream work-queue stream,
 * and {@link NatsAgent}s on any number of machines pull them, run them on their own local worker
 * pools and send the results back. Use it when the work no longer fits the workers of one machine;
 * on one machine the local {@code WorkerPool} stays the simpler and faster choice.
 *
 * <p><b>Delivery is at least once.</b> Every task gets an id ({@code SUBMITTER.N}); a task whose
 * agent dies, or whose worker dies, is delivered again (to any agent), so a task may <em>run</em>
 * more than once: make tasks idempotent. Its result is taken once: the first result for an id
 * completes the future, later ones are dropped ({@link #duplicatesDropped()}), so each future
 * completes exactly once. A task whose worker (or agent) died on each of {@code maxDeliver}
 * deliveries fails with a {@link TaskFailedException}.
 *
 * <p><b>Errors</b>, as the local pool's: {@link #submit} fails with a {@link RemoteException} (the
 * task threw in its worker), an {@link UnexpectedReplyException}, a {@link PoolSaturatedException}
 * (the stream holds {@code maxQueued} tasks or {@code maxBytes}, after waiting for room up to
 * {@link Builder#waitForRoom} if set; or {@code maxPending} of this submitter's tasks are
 * unanswered), a {@link PoolShutdownException} (after {@link #shutdown()} or {@link #close()}), an
 * {@link EncodeException} (a payload JSON cannot carry, or a task or its result over the server's max_payload), a
 * {@link TaskFailedException}, a {@link StreamUnavailableException} (JetStream did not confirm
 * the task within {@code publishTimeout}: the server is down for longer), or a
 * {@link TaskTimeoutException} (no result within {@link Builder#resultTimeout}, if set).
 *
 * <p><b>Bounds.</b> Tasks wait in the stream (file storage: they survive a server restart), at
 * most {@code maxQueued} of them and {@code maxBytes}; an agent holds at most its local capacity
 * unacknowledged. This submitter keeps at most {@code maxPending} unanswered futures. A server
 * that restarts is reconnected to for ever; tasks and results the server acknowledged survive it.
 *
 * <p><b>Threading.</b> Every method is thread-safe. Payloads are serialised on the caller's thread.
 * Futures complete, and the {@link Builder#onMessage} listener runs, on this pool's NATS dispatcher
 * thread: do not block in their callbacks (use the {@code *Async} stages for slow work), or the
 * results behind them wait.
 */
public final class NatsWorkerPool implements AutoCloseable {
    // The pool itself is the lifecycle: which calls are still allowed, and the order of shutdown and
    // close. What each step does on NATS (connection, streams, publisher, result subscription, the
    // timer thread) is SubmitterLink's; the futures waiting for results are Pending's.
    private final String id = NUID.nextGlobal();
    private final int maxPending;
    private final Duration publishTimeout;
    private final Duration resultTimeout; // null: none
    private final Pending pending = new Pending(id);
    private final SubmitterLink link;
    private final AtomicLong seq = new AtomicLong();
    private final AtomicReference<CompletableFuture<Void>> shutdown = new AtomicReference<>();
    /** The thread running close()'s steps, once one has begun them; {@link #closed} completes when it is done. */
    private final AtomicReference<Thread> closer = new AtomicReference<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile State state = State.RUNNING;

    private NatsWorkerPool(Builder b) {
        Layout layout = new Layout(b.pool);
        this.maxPending = b.maxPending;
        this.publishTimeout = b.publishTimeout;
        this.resultTimeout = b.resultTimeout;
        this.link = SubmitterLink.open(id, b.server, b.options, layout, b.limits(), pending, new ResultReader(id, pending),
                b.waitForRoom, b.publishTimeout, b.abandonedAfter, b.onMessage, () -> state == State.CLOSED);
    }

    /** {@return a builder of a pool named {@code "work"} on {@code nats://127.0.0.1:4222} unless told otherwise} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return this submitter's id: the prefix of its task ids, and the last token of its result subject} */
    public String submitterId() {
        return id;
    }

    /**
     * Publishes {@code data} (JSON) as a task to the pool's stream; completes with the payload of
     * the FINISHED reply of the worker that ran it, on whichever agent. See the class comment for the
     * errors, and for at-least-once delivery. A submit that races {@link #shutdown()} or
     * {@link #close()} either counts as submitted before it (shutdown waits for it) or fails with a
     * {@link PoolShutdownException}, never a task left in the stream for agents that got DIE.
     *
     * @param data the task's payload, JSON-able; serialised before this returns
     * @return a new future of the payload of the worker's FINISHED reply
     */
    public CompletableFuture<Object> submit(Object data) {
        return submit(data, null);
    }

    /**
     * As {@link #submit(Object)}, and hands {@code onMessage} the envelopes the worker running the
     * task sends on its own meanwhile (progress, partial results), with the task's id on the wire, so
     * that each reaches the task it belongs to; they reach the pool's {@link Builder#onMessage} as
     * well. Runs on this pool's NATS dispatcher thread, only while the task waits for its result
     * (envelopes that arrive after are for the pool's listener alone), and not at all for a worker
     * holding several tasks at once ({@code maxInFlightPerWorker} above 1), whose envelopes no task
     * owns. A task run twice (at least once delivery) may send its progress twice. What it throws is
     * logged (WARN, at most 20 times a minute per listener class; the rest at DEBUG). Null: none.
     *
     * @param data      the task's payload, JSON-able; serialised before this returns
     * @param onMessage takes the task's progress envelopes, or null
     * @return a new future of the payload of the worker's FINISHED reply
     */
    public CompletableFuture<Object> submit(Object data, Consumer<Envelope> onMessage) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        if (state != State.RUNNING) {
            f.completeExceptionally(refusal("submit"));
            return f;
        }
        byte[] json;
        try {
            json = Payloads.encode("task payload", data, link.maxPayload());
        } catch (EncodeException e) {
            f.completeExceptionally(e);
            return f;
        }
        if (!pending.reserve(maxPending)) {
            f.completeExceptionally(new PoolSaturatedException("maxPending " + maxPending + " tasks of this submitter already wait for a result"));
            return f;
        }
        String taskId = id + "." + seq.incrementAndGet();
        pending.add(taskId, f, onMessage);
        // shutdown() and close() change the state before they look at the tasks outstanding: a submit that
        // passed the first check as they began sees the new state here, or they see its task (and wait for it)
        if (state != State.RUNNING) {
            pending.withdraw(taskId, refusal("submit"));
            return f.copy();
        }
        if (resultTimeout != null) {
            expire(taskId, f);
        }
        link.publish(taskId, json);
        return f.copy(); // a caller completing its copy cannot lose us the real result
    }

    private void expire(String taskId, CompletableFuture<Object> f) {
        ScheduledFuture<?> timer = link.timer().schedule(() -> pending.withdraw(taskId, new TaskTimeoutException("task " + taskId
                + ": no result within resultTimeout " + resultTimeout + " (it may still run on an agent: delivery is at least"
                + " once; a result that comes later is dropped)")), resultTimeout.toNanos(), TimeUnit.NANOSECONDS);
        f.whenComplete((r, e) -> timer.cancel(false));
    }

    /**
     * Sends the one-way envelope {@code request} with {@code data} to every agent (core NATS, not
     * kept: agents connected now get it), which hands it to every worker of its local pool, as
     * {@link WorkerPool#broadcast}. {@link Envelope#DIE} drains the agents instead, as
     * {@link #shutdown()} does without waiting for this submitter's tasks.
     *
     * @param request the envelope's word, e.g. {@code "CONFIG"}, or {@link Envelope#DIE}
     * @param data    its payload, JSON-able, or null
     * @throws InvalidArgumentException if {@code request} is null or empty
     * @throws EncodeException if JSON cannot carry {@code data}, or it is over the server's max_payload
     * @throws PoolShutdownException after {@link #close()}
     * @throws StreamUnavailableException if the connection cannot take it now (closed by NATS after its
     *         reconnect attempts, or its reconnect buffer full)
     */
    public void broadcast(String request, Object data) {
        new Envelope(request, 0, 0, null); // checks the word
        if (state == State.CLOSED) {
            throw new PoolShutdownException("broadcast " + request + " refused: the pool is CLOSED: close() has been called");
        }
        byte[] json = Payloads.encode("broadcast " + request + ": payload", data, link.maxPayload());
        try {
            link.sendControl(request, json);
        } catch (IllegalStateException e) {
            if (state == State.CLOSED) {
                throw new PoolShutdownException("broadcast " + request + " refused: the pool is CLOSED: close() has been called");
            }
            throw new StreamUnavailableException("broadcast " + request + " not sent: " + e.getMessage(), e);
        }
    }

    /** {@return true when no task of this submitter waits for its result} */
    public boolean isIdle() {
        return pending.isIdle();
    }

    /** {@return a future that completes once no task of this submitter waits for its result} */
    public CompletableFuture<Void> whenIdle() {
        return pending.whenIdle();
    }

    /** {@return the results that came for a task already completed (a redelivered task run twice), and were dropped} */
    public long duplicatesDropped() {
        return pending.duplicates();
    }

    /**
     * Refuses new tasks at once, waits for this submitter's tasks to complete, then sends DIE to
     * every agent of the pool (each finishes the tasks it holds, stops its workers and exits); completes
     * once the server has the DIE. Idempotent. Other submitters' tasks still in the stream stay there
     * for the agents started next. Call {@link #close()} afterwards to release the connection; a
     * {@code close()} before the DIE has gone fails the shutdown with a {@link PoolShutdownException}
     * and sends no DIE. Each call gets its own copy of the one shutdown's outcome: a caller's cancel
     * stays with that caller.
     *
     * @return a new future, completed once the server has the DIE
     */
    public CompletableFuture<Void> shutdown() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (!shutdown.compareAndSet(null, f)) {
            return shutdown.get().copy();
        }
        moveTo(State.SHUTTING_DOWN);
        whenIdle().thenRunAsync(() -> {
            if (state == State.CLOSED) {
                f.completeExceptionally(closedBeforeDie());
                return;
            }
            try {
                link.sendDie(publishTimeout);
                moveTo(State.TERMINATED);
                f.complete(null);
            } catch (Exception e) {
                f.completeExceptionally(state == State.CLOSED ? closedBeforeDie() : new StreamUnavailableException(
                        "shutdown: DIE not confirmed by the server within publishTimeout " + publishTimeout + ": " + e.getMessage(), e));
            }
        }, link.timer());
        return f.copy(); // the pool's own stays out of callers' hands: a cancel would reach them all
    }

    private static PoolShutdownException closedBeforeDie() {
        return new PoolShutdownException("shutdown: the pool was closed before DIE was sent and confirmed");
    }

    /**
     * Closes the connection; the futures still pending fail with a {@link PoolShutdownException}
     * (their tasks stay in the stream and may still run: their results are dropped). Idempotent and
     * thread-safe: a call made while another thread is closing the pool returns when that one is done.
     */
    @Override
    public void close() {
        moveTo(State.CLOSED);
        // The steps run once, on the first caller's thread: a second closer running them too would
        // close the connection under the first one's consumer delete and leave the consumer behind.
        // The others wait for them (bounded by the client's request timeouts), except a callback that
        // the closing thread itself runs (a failed future's), which must not wait on itself.
        if (!closer.compareAndSet(null, Thread.currentThread())) {
            if (closer.get() != Thread.currentThread()) {
                closed.join();
            }
            return;
        }
        try {
            pending.failAll(new PoolShutdownException("the pool was closed before the task's result came:"
                    + " the task may still run on an agent (at least once), its result will be dropped"));
            link.unsubscribe();
            link.stopTimer();
            CompletableFuture<Void> down = shutdown.get();
            if (down != null) {
                down.completeExceptionally(closedBeforeDie()); // its DIE step may have been dropped by shutdownNow
            }
            link.closeConnection();
        } finally {
            closed.complete(null);
        }
    }

    private PoolShutdownException refusal(String method) {
        return new PoolShutdownException(method + " refused: the pool is " + state
                + ": it takes no new tasks once shutdown() or close() has been called");
    }

    private synchronized void moveTo(State next) {
        if (next.ordinal() > state.ordinal()) {
            state = next;
        }
    }

    private enum State { RUNNING, SHUTTING_DOWN, TERMINATED, CLOSED }

    /** Configures a {@link NatsWorkerPool}. Not thread-safe. */
    public static final class Builder {
        private String server = "nats://127.0.0.1:4222";
        private Options options;
        private String pool = "work";
        private final Settings settings = new Settings();
        private int maxPending = 100_000;
        private Duration waitForRoom = Duration.ZERO;
        private Duration publishTimeout = Duration.ofSeconds(30);
        private Duration abandonedAfter = Duration.ofHours(1);
        private Duration resultTimeout;
        private Consumer<Envelope> onMessage;

        private Builder() {
        }

        /**
         * The NATS server's URL. Default {@code nats://127.0.0.1:4222}.
         *
         * @param url the URL, not null
         * @return this builder
         */
        public Builder server(String url) {
            this.server = InvalidArgumentException.requireNonNull("server", url);
            return this;
        }

        /**
         * Connection options of the caller's own (TLS, credentials, servers); its connection name and listener are kept or wrapped.
         *
         * @param natsOptions the options, not null
         * @return this builder
         */
        public Builder options(Options natsOptions) {
            this.options = InvalidArgumentException.requireNonNull("options", natsOptions);
            return this;
        }

        /**
         * The pool's name: agents of the same name take its tasks. Default {@code "work"}.
         *
         * @param name 1 to 64 of A-Z a-z 0-9 _ -
         * @return this builder
         */
        public Builder pool(String name) {
            new Layout(name); // checks it here
            this.pool = name;
            return this;
        }

        /**
         * Tasks the stream may hold; more fail with {@link PoolSaturatedException} (or wait, see {@link #waitForRoom}). Default 100,000. Used when this side creates the stream.
         *
         * @param n how many tasks, {@code > 0}
         * @return this builder
         */
        public Builder maxQueued(long n) {
            settings.maxQueued(n);
            return this;
        }

        /**
         * Bytes the stream may hold. Default 256 MiB. Used when this side creates the streams.
         *
         * @param n how many bytes, {@code > 0}
         * @return this builder
         */
        public Builder maxBytes(long n) {
            settings.maxBytes(n);
            return this;
        }

        /**
         * How long an agent may hold a task without a heartbeat before it is delivered again. Default 30 s. Used when this side creates the consumer.
         *
         * @param d the ack wait, at least 300 ms
         * @return this builder
         */
        public Builder ackWait(Duration d) {
            settings.ackWait(d);
            return this;
        }

        /**
         * Deliveries to a worker before a task whose worker keeps dying fails with {@link TaskFailedException}. Default 3. Used when this side creates the consumer.
         *
         * @param n the deliveries, {@code > 0}
         * @return this builder
         */
        public Builder maxDeliver(int n) {
            settings.maxDeliver(n);
            return this;
        }

        /**
         * This submitter's unanswered tasks at most; more fail with {@link PoolSaturatedException}. Default 100,000.
         *
         * @param n how many, {@code > 0}
         * @return this builder
         */
        public Builder maxPending(int n) {
            this.maxPending = InvalidArgumentException.requirePositive("maxPending", n);
            return this;
        }

        /**
         * When the stream is full, retry the task for up to {@code d} before failing it. Default zero: fail at once.
         *
         * @param d how long, {@code >= 0}
         * @return this builder
         */
        public Builder waitForRoom(Duration d) {
            this.waitForRoom = Settings.nonNegative("waitForRoom", d);
            return this;
        }

        /**
         * How long a task is retried while the server does not confirm it (down, restarting). Default 30 s.
         *
         * @param d the timeout, positive
         * @return this builder
         */
        public Builder publishTimeout(Duration d) {
            this.publishTimeout = Settings.positive("publishTimeout", d);
            return this;
        }

        /**
         * How long a task may wait for its result, from {@code submit}, before its future fails with a
         * {@link TaskTimeoutException} (and stops counting against {@code maxPending} and
         * {@link NatsWorkerPool#whenIdle}). The task is not withdrawn from the stream: an agent may
         * still run it, and its result is then dropped as a duplicate. Default: none (a task waits
         * for an agent as long as it takes).
         *
         * @param d the time from {@code submit}, positive
         * @return this builder
         */
        public Builder resultTimeout(Duration d) {
            this.resultTimeout = Settings.positive("resultTimeout", d);
            return this;
        }

        /**
         * After how long the server forgets the result consumer of a submitter that died without {@code close()}. Default 1 h.
         *
         * @param d the delay, positive
         * @return this builder
         */
        public Builder abandonedAfter(Duration d) {
            this.abandonedAfter = Settings.positive("abandonedAfter", d);
            return this;
        }

        /**
         * Receives the envelopes workers send on their own, on the dispatcher thread: those sent while
         * running a task of this submitter (progress; also given to the task's own listener, see
         * {@link NatsWorkerPool#submit(Object, Consumer)}), and those sent while running none, from
         * every agent (the answers to a {@link NatsWorkerPool#broadcast}). What it throws is logged
         * (WARN, at most 20 times a minute per listener class; the rest at DEBUG). Null: none.
         *
         * @param listener the listener, or null
         * @return this builder
         */
        public Builder onMessage(Consumer<Envelope> listener) {
            this.onMessage = listener;
            return this;
        }

        Layout.Limits limits() {
            return settings.limits();
        }

        /**
         * Connects, creates the streams and the agents' consumer unless they exist, and subscribes to
         * this submitter's results and its workers' envelopes; returns once the server has confirmed
         * those subscriptions, so that an envelope published after this returns reaches the
         * {@link #onMessage} listener.
         *
         * @return the running pool
         * @throws StreamUnavailableException if the server cannot be reached, refuses the set-up, or
         *                                    does not confirm the subscriptions within {@link #publishTimeout}
         */
        public NatsWorkerPool start() {
            return new NatsWorkerPool(this);
        }
    }
}
