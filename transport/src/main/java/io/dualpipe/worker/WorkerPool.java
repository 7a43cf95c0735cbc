package io.dualpipe.worker;

import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.LoopFutures;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.pool.internal.CrashBreaker;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A parent and N worker children exchanging {@link Envelope}s, as pymulproc does over its queues:
 * {@link #submit} sends a task ({@link Envelope#DO}) to the least busy worker and completes with
 * its {@link Envelope#FINISHED} payload; {@link #shutdown()} sends each worker the poison pill
 * ({@link Envelope#DIE}) once the work submitted before it is done, and waits for the workers to
 * exit; {@link #whenIdle()} waits until all work is done (pymulproc's {@code queue_join}). Workers
 * are any programs that speak frames of envelopes on stdin/stdout: a Java class using
 * {@link Worker}, or a Python script using {@code json} and {@code struct}.
 *
 * <p><b>Addressing.</b> As pymulproc's parent names a recipient pid, {@link #submitTo} gives a task
 * to one chosen worker (one of {@link #workerPids()}), behind the tasks it already holds, and
 * {@link #sendTo} sends one worker a one-way envelope; {@link #broadcast} sends one to every live
 * worker. A Java worker takes one-way envelopes with {@link Worker#run(Worker.Task, Worker.Handler)}.
 *
 * <p><b>Bounds.</b> Each worker has at most {@code maxInFlightPerWorker} tasks at once (1 by
 * default: a worker takes its next task when it is free); the rest wait in the pool, at most
 * {@code maxQueued} of them, beyond which {@code submit} fails at once with a
 * {@link PoolSaturatedException}; tasks waiting for one chosen worker ({@link #submitTo}) count
 * towards the same {@code maxQueued}. A worker that exits fails its tasks, including those waiting
 * for it alone, with a {@link WorkerExitedException}; the others carry on.
 *
 * <p><b>Supervision.</b> A worker that exits unasked is replaced ({@link Builder#respawn}), after an
 * exponential backoff when workers keep crashing; a crash loop opens a breaker
 * ({@link Builder#breaker}) that stops the restarts for a while and, while no worker is alive, fails
 * tasks at once with a {@link io.dualpipe.pool.BreakerOpenException} naming the last crash. A task
 * held past its timeout ({@link Builder#taskTimeout}, {@link TaskOptions#timeout}) fails with a
 * {@link TaskTimeoutException}, and its worker is killed and replaced: its late reply can never be
 * taken for another task's. A task marked {@link TaskOptions#idempotent()} is run again on another
 * worker when its worker dies or times out. {@link #workerPids()} lists the live workers.
 *
 * <p><b>Stopping.</b> {@code shutdown()} is graceful: like a poison pill put in pymulproc's queue
 * behind the tasks already there, DIE goes to the workers only when every task submitted before
 * {@code shutdown()} has completed (queued ones included), so none of them fails for the shutdown.
 * From {@code shutdown()} on, {@code submit} fails at once with a {@link PoolShutdownException}.
 * To stop without waiting for the work (a task that hangs, say), call {@link #close()}, which
 * kills the workers; their tasks, running or queued, fail with a {@link WorkerExitedException}.
 *
 * <p><b>Threading.</b> Every method is thread-safe. Task futures complete, and the message listener
 * runs, on the pool's loop thread. A task or envelope {@code submit}, {@code submitTo} or
 * {@code sendTo} refuses at once (an unsendable payload, a full queue, a pid that is no live worker,
 * a pool already shut down) fails on the caller's thread, except one that races {@code shutdown()}
 * or {@code close()} to the loop: it fails there with a {@link PoolShutdownException}.
 *
 * <p><b>Stderr.</b> A worker's stderr is read into a bounded tail ({@link io.dualpipe.process.StderrMode#TAIL},
 * the default of the builders the pool is given), so it never stalls the worker; when the worker
 * dies, the {@link WorkerExitedException} failing its tasks carries its exit status and that tail
 * (it waits up to a second for both) and quotes them. With {@link io.dualpipe.process.StderrMode#PIPE}
 * the pool logs each stderr line (SLF4J, WARN) and keeps their tail too.
 */
public final class WorkerPool implements AutoCloseable {

    private final EventLoop loop;
    private final long pid = ProcessHandle.current().pid();
    private final int maxQueued;
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger outstanding = new AtomicInteger();
    private volatile State state = State.RUNNING;
    private final AtomicReference<LoopFuture<List<ExitStatus>>> shutdown = new AtomicReference<>();
    /** Every worker started, by pid (the oldest dead ones forgotten); concurrent: read on the callers' threads. */
    private final Map<Long, Slot> byPid = new ConcurrentHashMap<>();
    private final WorkerDispatcher dispatcher; // its state belongs to the loop thread
    private final int maxPidDigits;
    /** The bytes of {@code ["DO",PID,PID,DATA]} other than the request, the pids and the data, for the frame-size check. */
    private static final int ENVELOPE_PUNCTUATION = "[,,,]".length();

    private WorkerPool(Builder b) {
        this.loop = b.loop != null ? b.loop : EventLoop.shared();
        this.maxQueued = b.maxQueued;
        this.dispatcher = new WorkerDispatcher(b, loop, pid, queued, outstanding, byPid);
        List<Slot> started = new ArrayList<>();
        try {
            for (int i = 0; i < b.workers; i++) {
                started.add(dispatcher.startWorker());
            }
        } catch (RuntimeException e) {
            started.forEach(s -> s.child.close());
            throw e;
        }
        // a replacement's pid can be longer than the first workers': leave room for the longest there is
        this.maxPidDigits = Math.max(Long.toString(maxPid()).length(),
                started.stream().mapToInt(s -> Integer.toString(s.child.pid()).length()).max().orElse(1));
        dispatcher.publish(started); // the pids are known before start() returns
        loop.runOnLoop(() -> dispatcher.adopt(started));
    }

    private static long maxPid() {
        try {
            return Long.parseLong(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/pid_max")).strip());
        } catch (java.io.IOException | RuntimeException e) {
            return 4_194_304L; // Linux's ceiling; macOS pids are smaller
        }
    }

    /**
     * A pool whose workers are started from {@code worker} (called once per worker).
     *
     * @param worker makes the builder of each worker: called once per worker started, replacements
     *               included (those on the loop thread)
     * @return a builder with the defaults
     */
    public static Builder builder(Supplier<ChildProcessBuilder> worker) {
        return new Builder(worker);
    }

    /**
     * The live workers' pids, in start order: a worker that exited leaves the list, and its
     * replacement joins at the end.
     *
     * @return a snapshot of the live workers' pids
     */
    public List<Long> workerPids() {
        return dispatcher.pids();
    }

    /**
     * Sends {@code data} to a free worker as a DO envelope; completes with the payload of its
     * FINISHED reply, or fails with a {@link io.dualpipe.core.message.RemoteException} (the task
     * threw in the worker), an {@link UnexpectedReplyException} (the worker answered with another
     * word than FINISHED), a {@link WorkerExitedException}, a {@link PoolSaturatedException}, a
     * {@link PoolShutdownException} (after {@link #shutdown()} or {@link #close()}), or an
     * {@link EncodeException} (a payload JSON cannot carry, or one too big for a frame).
     *
     * <p>{@code data} is serialised here, on the caller's thread: a payload that cannot be sent fails
     * the returned future before {@code submit} returns, and the caller may change the object
     * afterwards without changing the task.
     *
     * @param data the task's payload, JSON-able; serialised before this returns
     * @return the payload of the worker's FINISHED reply
     */
    public LoopFuture<Object> submit(Object data) {
        return enqueue("submit", null, data, TaskOptions.defaults());
    }

    /**
     * As {@link #submit(Object)}, run as {@code options} say: with its own timeout (past which it
     * fails with a {@link TaskTimeoutException} and its worker is killed and replaced), and, for a
     * task marked {@link TaskOptions#idempotent()}, run again on another worker (at most
     * {@link TaskOptions#retries()} times) when its worker dies or times out, before failing.
     *
     * @param data    the task's payload, JSON-able; serialised before this returns
     * @param options the task's timeout and retries, not null
     * @return the payload of the worker's FINISHED reply
     */
    public LoopFuture<Object> submit(Object data, TaskOptions options) {
        return enqueue("submit", null, data, InvalidArgumentException.requireNonNull("options", options));
    }

    /**
     * Sends {@code data} as a DO envelope to the worker {@code workerPid} alone (one of
     * {@link #workerPids()}), queued behind the tasks that worker already holds: when it has room
     * ({@code maxInFlightPerWorker}) it takes the tasks submitted to it before any {@link #submit}ted
     * to the pool. Completes as {@link #submit} does, with the payload of its FINISHED reply.
     *
     * <p>Fails, on the caller's thread before returning, with an {@link InvalidArgumentException}
     * naming {@code workerPid} if it is not a worker of this pool or that worker had already exited,
     * and as {@code submit} does with a {@link PoolShutdownException}, a
     * {@link PoolSaturatedException} (the task would make more than {@code maxQueued} wait, for any
     * worker) or an {@link EncodeException}. Fails later with a {@link WorkerExitedException} if the
     * worker exits before it answers (the task running or still waiting for it: no other worker
     * takes it), with a {@link io.dualpipe.core.message.RemoteException} if the task threw, or with an
     * {@link UnexpectedReplyException}.
     *
     * <p>Thread-safe; the future completes on the pool's loop thread unless it failed on the
     * caller's. The task counts for {@link #whenIdle()} and {@link #shutdown()}, which waits for it.
     *
     * @param workerPid the worker, one of {@link #workerPids()}
     * @param data      the task's payload, JSON-able; serialised before this returns
     * @return the payload of the worker's FINISHED reply
     */
    public LoopFuture<Object> submitTo(long workerPid, Object data) {
        Slot target = byPid.get(workerPid);
        if (state == State.RUNNING && (target == null || !target.alive)) {
            LoopFuture<Object> f = new LoopFuture<>();
            f.completeExceptionally(notALiveWorker("submitTo", workerPid, target));
            return f;
        }
        return enqueue("submitTo", target, data, TaskOptions.defaults());
    }

    /** A task for {@code target} alone, or (null) for whichever worker is free first. */
    private LoopFuture<Object> enqueue(String method, Slot target, Object data, TaskOptions options) {
        LoopFuture<Object> f = new LoopFuture<>();
        if (state != State.RUNNING) {
            f.completeExceptionally(refusal(method));
            return f;
        }
        RuntimeException open = target == null ? dispatcher.breakerRefusal() : null;
        if (open != null) {
            f.completeExceptionally(open);
            return f;
        }
        RawValue payload;
        try {
            payload = payload(Envelope.DO, data);
        } catch (EncodeException e) {
            f.completeExceptionally(e);
            return f;
        }
        if (queued.incrementAndGet() > maxQueued) {
            queued.decrementAndGet();
            f.completeExceptionally(new PoolSaturatedException("maxQueued " + maxQueued + " tasks already wait for a worker"));
            return f;
        }
        outstanding.incrementAndGet();
        try {
            loop.runOnLoop(() -> {
                if (dispatcher.stopped()) {
                    // it passed the state check as shutdown() or close() began, but reached the loop after them
                    queued.decrementAndGet();
                    f.completeExceptionally(refusal(method));
                    dispatcher.taskDone();
                    return;
                }
                dispatcher.add(new Task(payload, f, options, target != null), target);
            });
        } catch (RuntimeException e) {
            queued.decrementAndGet();
            outstanding.decrementAndGet();
            f.completeExceptionally(e);
        }
        return f;
    }

    /**
     * Sends the one-way envelope {@code [request, parent pid, workerPid, data]} to the worker
     * {@code workerPid} alone (one of {@link #workerPids()}), as pymulproc's {@code send} with a
     * recipient does: a word of the application's own ({@code "CONFIG"}), or {@link Envelope#DIE} to
     * stop that one worker (the tasks waiting for it alone then fail with a
     * {@link WorkerExitedException}). It goes to the worker's stdin at once: the worker reads it after
     * the tasks it already holds, but possibly before tasks still waiting for it in the pool. A Java
     * worker takes it with {@link Worker#run(Worker.Task, Worker.Handler)}. Nothing answers it; a
     * worker may answer with {@link Worker#send}, which reaches {@link Builder#onMessage}.
     *
     * <p>Completes, on the pool's loop thread, once the frame is in the kernel's pipe. Fails on the
     * caller's thread before returning with an {@link InvalidArgumentException} if {@code request} is
     * null, empty or {@link Envelope#DO} (a task wants a reply: use {@link #submitTo}), or if
     * {@code workerPid} is not a worker of this pool or that worker had already exited; with an
     * {@link EncodeException} if JSON cannot carry {@code data} or it is too big for a frame; with a
     * {@link PoolShutdownException} after {@link #shutdown()} or {@link #close()} (on the loop thread
     * if the call raced them there). Fails later with a {@link WorkerExitedException} if the worker
     * exited, or its pipes closed, before the frame was written.
     *
     * <p>Thread-safe; {@code data} is serialised on the caller's thread, which may change it
     * afterwards. Envelopes sent from one thread to one worker arrive in call order.
     *
     * @param workerPid the worker, one of {@link #workerPids()}
     * @param request   the envelope's word, not {@link Envelope#DO}
     * @param data      its payload, JSON-able, or null
     * @return completes once the frame is in the kernel's pipe
     */
    public LoopFuture<Void> sendTo(long workerPid, String request, Object data) {
        LoopFuture<Void> f = new LoopFuture<>();
        Slot target = byPid.get(workerPid);
        if (request == null || request.isEmpty() || request.equals(Envelope.DO)) {
            f.completeExceptionally(new InvalidArgumentException("sendTo: request " + (request == null ? "null" : "\"" + request + "\"")
                    + " is not allowed: name a one-way word (\"CONFIG\", " + Envelope.DIE + "); a " + Envelope.DO
                    + " is a task, which wants a reply: use submitTo(workerPid, data)"));
            return f;
        }
        if (state != State.RUNNING) {
            f.completeExceptionally(refusal("sendTo")); // before the pid: after close() no worker is alive
            return f;
        }
        if (target == null || !target.alive) {
            f.completeExceptionally(notALiveWorker("sendTo", workerPid, target));
            return f;
        }
        Envelope envelope;
        try {
            envelope = new Envelope(request, pid, workerPid, payload(request, data));
        } catch (EncodeException e) {
            f.completeExceptionally(e);
            return f;
        }
        try {
            loop.runOnLoop(() -> {
                if (dispatcher.stopped()) {
                    f.completeExceptionally(refusal("sendTo")); // it raced shutdown() or close() to the loop
                } else if (!target.alive || !target.channel.isOpen()) {
                    f.completeExceptionally(new WorkerExitedException("sendTo: worker " + workerPid
                            + " exited before the \"" + request + "\" envelope could be sent", null));
                } else {
                    if (Envelope.DIE.equals(request)) {
                        dispatcher.retire(target); // asked for: not a crash, and not replaced
                    }
                    target.channel.send(envelope).whenComplete((v, e) -> {
                        if (e == null) {
                            f.complete(null);
                            return;
                        }
                        Throwable cause = unwrap(e);
                        f.completeExceptionally(cause instanceof ChannelClosedException && !(cause instanceof WorkerExitedException)
                                ? new WorkerExitedException("sendTo: worker " + workerPid + " went away before the \""
                                        + request + "\" envelope was written", cause)
                                : cause);
                    });
                }
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop
        }
        return f;
    }

    /**
     * Sends the one-way envelope {@code [request, parent pid, worker pid, data]} to every live worker
     * (recipient = that worker), as pymulproc's {@code send} without a recipient on a queue every child
     * reads. A Java worker takes it with {@link Worker#run(Worker.Task, Worker.Handler)}; each worker
     * reads it after the tasks it already holds. Nothing answers it; a worker may answer with
     * {@link Worker#send}, which reaches {@link Builder#onMessage}.
     *
     * <p>Thread-safe; {@code data} is serialised on the caller's thread, which may change it
     * afterwards, and the envelopes are written from the loop thread. A worker whose pipes close first
     * does not get it, silently.
     *
     * @param request the envelope's word
     * @param data    its payload, JSON-able, or null
     * @throws InvalidArgumentException if {@code request} is null or empty
     * @throws EncodeException if JSON cannot carry {@code data}, or it is too big for a frame
     */
    public void broadcast(String request, Object data) {
        InvalidArgumentException.requireNonNull("request", request);
        RawValue payload = payload(request, data);
        new Envelope(request, pid, 0, null); // checks the word here rather than on the loop, where nobody would see the error
        loop.runOnLoop(() -> {
            for (Slot s : dispatcher.slots()) {
                if (s.alive) {
                    s.channel.send(new Envelope(request, pid, s.child.pid(), payload));
                }
            }
        });
    }

    /** {@return true when no task is waiting or running (pymulproc's {@code queue_empty})} */
    public boolean isIdle() {
        return outstanding.get() == 0;
    }

    /**
     * Completes once no task is waiting or running (pymulproc's {@code queue_join}).
     *
     * @return a new future, completed on the loop thread
     */
    public LoopFuture<Void> whenIdle() {
        LoopFuture<Void> f = new LoopFuture<>();
        try {
            loop.runOnLoop(() -> dispatcher.whenIdle(f));
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop: state problems come back in the future
        }
        return f;
    }

    /**
     * Refuses new tasks at once, lets the tasks already submitted finish, then sends every worker the
     * poison pill; completes with their exit statuses, in start order. Idempotent: each call gets its own
     * copy of the one shutdown's outcome (a caller's cancel stays with that caller).
     *
     * @return the workers' exit statuses, in start order
     */
    public LoopFuture<List<ExitStatus>> shutdown() {
        LoopFuture<List<ExitStatus>> f = new LoopFuture<>();
        if (!shutdown.compareAndSet(null, f)) {
            return LoopFutures.copyOf(shutdown.get());
        }
        moveTo(State.SHUTTING_DOWN);
        try {
            loop.runOnLoop(() -> {
                LoopFuture<Void> drained = new LoopFuture<>();
                dispatcher.whenIdle(drained);
                drained.thenRun(() -> dispatcher.die(f, () -> moveTo(State.TERMINATED))); // on the loop, by taskDone
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop: it already killed and reaped the workers
        }
        return LoopFutures.copyOf(f); // the pool's own stays out of callers' hands: a cancel would reach them all
    }

    /** Kills every worker; their tasks fail with {@link WorkerExitedException}. */
    @Override
    public void close() {
        moveTo(State.CLOSED);
        try {
            loop.runOnLoop(dispatcher::killAll);
        } catch (io.dualpipe.core.LoopClosedException alreadyDone) {
            // closing the loop killed and reaped every worker: nothing is left to close
        }
    }

    private PoolShutdownException refusal(String method) {
        return new PoolShutdownException(method + " refused: the pool is " + state
                + ": it takes no new tasks or envelopes once shutdown() or close() has been called");
    }

    private InvalidArgumentException notALiveWorker(String method, long workerPid, Slot known) {
        return new InvalidArgumentException(method + ": workerPid " + workerPid + (known == null
                ? " is not a worker of this pool, whose workers are " + dispatcher.pids()
                : " has exited: only a live worker of this pool takes tasks and envelopes"));
    }

    static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** Moves forward only: a pool closed during its shutdown stays CLOSED. */
    private synchronized void moveTo(State next) {
        if (next.ordinal() > state.ordinal()) {
            state = next;
        }
    }

    /**
     * The payload of a {@code request} envelope as JSON, checked against the frame limit with the
     * longest pids the envelope can carry, so that a payload that cannot be sent fails before it
     * takes a place in the queue rather than when a worker is free.
     */
    private RawValue payload(String request, Object data) {
        byte[] json = EnvelopeCodec.payloadJson(request, data);
        int word = EnvelopeCodec.payloadJson(request, request).length; // the request as a JSON string, escapes included
        long body = (long) ENVELOPE_PUNCTUATION + word + Long.toString(pid).length() + maxPidDigits + json.length;
        if (body > Frames.DEFAULT_MAX_FRAME_SIZE) {
            throw new EncodeException(EnvelopeCodec.TYPE, "envelope " + request + ": payload of " + json.length
                    + " bytes makes an envelope of " + body + " bytes > maxFrameSize " + Frames.DEFAULT_MAX_FRAME_SIZE);
        }
        return new RawValue(new String(json, StandardCharsets.UTF_8));
    }

    /** In the order a pool goes through them; {@link #moveTo} never goes back. */
    private enum State { RUNNING, SHUTTING_DOWN, TERMINATED, CLOSED }

    /** Configures a {@link WorkerPool}. Not thread-safe. */
    public static final class Builder {
        final Supplier<ChildProcessBuilder> worker;
        int workers = Runtime.getRuntime().availableProcessors();
        int maxInFlight = 1;
        int maxQueued = 10_000;
        Consumer<Envelope> onMessage;
        EventLoop loop;
        boolean respawn = true;
        Duration taskTimeout;
        Duration backoffInitial = Duration.ofMillis(50);
        Duration backoffMax = Duration.ofSeconds(5);
        int breakerCrashes = 5;
        Duration breakerWindow = Duration.ofSeconds(10);
        Duration breakerOpenFor = Duration.ofSeconds(5);

        private Builder(Supplier<ChildProcessBuilder> worker) {
            this.worker = InvalidArgumentException.requireNonNull("worker", worker);
        }

        /**
         * How many workers. Default: the number of available processors.
         *
         * @param n how many, {@code > 0}
         * @return this builder
         */
        public Builder workers(int n) {
            this.workers = InvalidArgumentException.requirePositive("workers", n);
            return this;
        }

        /**
         * Tasks one worker may hold at once. Default 1.
         *
         * @param n how many, {@code > 0}
         * @return this builder
         */
        public Builder maxInFlightPerWorker(int n) {
            this.maxInFlight = InvalidArgumentException.requirePositive("maxInFlightPerWorker", n);
            return this;
        }

        /**
         * Tasks that may wait for a worker before {@code submit} fails. Default 10,000.
         *
         * @param n how many, {@code > 0}
         * @return this builder
         */
        public Builder maxQueued(int n) {
            this.maxQueued = InvalidArgumentException.requirePositive("maxQueued", n);
            return this;
        }

        /**
         * Receives the envelopes workers send on their own (progress, partial results), on the loop thread.
         *
         * @param listener the listener, or null to drop them
         * @return this builder
         */
        public Builder onMessage(Consumer<Envelope> listener) {
            this.onMessage = listener;
            return this;
        }

        /**
         * The loop that serves the workers. Default {@link EventLoop#shared()}.
         *
         * @param eventLoop the loop, not null
         * @return this builder
         */
        public Builder loop(EventLoop eventLoop) {
            this.loop = InvalidArgumentException.requireNonNull("loop", eventLoop);
            return this;
        }

        /**
         * Whether a worker that exits unasked (a crash, a kill from outside, a timed-out task) is
         * replaced, after a backoff when workers keep crashing. Default true. Workers stopped with
         * {@code sendTo(pid, DIE)} or by {@link WorkerPool#shutdown()} are never replaced.
         *
         * @param value false to let crashed workers go
         * @return this builder
         */
        public Builder respawn(boolean value) {
            this.respawn = value;
            return this;
        }

        /**
         * How long a worker may hold a task before the task fails with a {@link TaskTimeoutException}
         * and the worker is killed and replaced (its other tasks fail with a
         * {@link WorkerExitedException}, or are retried if idempotent). A task's own
         * {@link TaskOptions#timeout(Duration)} wins. Default: none.
         *
         * @param timeout the timeout, positive
         * @return this builder
         */
        public Builder taskTimeout(Duration timeout) {
            this.taskTimeout = TaskOptions.defaults().timeout(timeout).timeout();
            return this;
        }

        /**
         * Delay before replacing a crashed worker: {@code initial}, doubling per consecutive crash, up to {@code max}. Default 50 ms .. 5 s.
         *
         * @param initial the first delay, positive
         * @param max     the longest delay, {@code >= initial}
         * @return this builder
         */
        public Builder backoff(Duration initial, Duration max) {
            new CrashBreaker(1, Duration.ofSeconds(1), Duration.ofSeconds(1), initial, max); // checks the values
            this.backoffInitial = initial;
            this.backoffMax = max;
            return this;
        }

        /**
         * The crash-loop breaker: {@code crashes} crashes within {@code window} stop replacing
         * workers for {@code openFor}; while no worker is alive, tasks fail at once with a
         * {@link io.dualpipe.pool.BreakerOpenException} naming the last crash. Then one worker
         * starts as a probe; its first answer closes the breaker. Default 5 in 10 s, open 5 s.
         *
         * @param crashes how many crashes open it, {@code > 0}
         * @param window  the window they are counted in, positive
         * @param openFor how long it stays open before a probe, positive
         * @return this builder
         */
        public Builder breaker(int crashes, Duration window, Duration openFor) {
            new CrashBreaker(crashes, window, openFor, Duration.ofMillis(1), Duration.ofMillis(1)); // checks the values
            this.breakerCrashes = crashes;
            this.breakerWindow = window;
            this.breakerOpenFor = openFor;
            return this;
        }

        /**
         * Starts the workers; fails (and kills those already started) if one cannot start.
         *
         * @return the running pool
         * @throws io.dualpipe.core.MissingDependencyException if Jackson is not on the class path
         * @throws io.dualpipe.process.SpawnException if a worker cannot start
         */
        public WorkerPool start() {
            io.dualpipe.core.internal.Jackson.require("WorkerPool"); // before any worker is spawned
            return new WorkerPool(this);
        }
    }
}
