package io.dualpipe.worker;

import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 * Workers' stderr lines are logged (SLF4J, WARN) when stderr is a pipe.
 */
public final class WorkerPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

    private final EventLoop loop;
    private final long pid = ProcessHandle.current().pid();
    private final int maxInFlight;
    private final int maxQueued;
    private final List<Slot> slots = new ArrayList<>();       // loop thread only, after start
    private final ArrayDeque<Task> queue = new ArrayDeque<>(); // loop thread only
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final List<LoopFuture<Void>> idleWaiters = new ArrayList<>(); // loop thread only
    private boolean dispatching;   // loop thread only
    private boolean dispatchAgain; // loop thread only
    private boolean stopped;       // loop thread only: DIE sent or workers killed, no task may start
    private volatile State state = State.RUNNING;
    private final AtomicReference<LoopFuture<List<ExitStatus>>> shutdown = new AtomicReference<>();
    private final List<Long> pids;
    private final java.util.Map<Long, Slot> byPid; // immutable after the constructor
    private final int maxPidDigits;
    /** The bytes of {@code ["DO",PID,PID,DATA]} other than the request, the pids and the data, for the frame-size check. */
    private static final int ENVELOPE_PUNCTUATION = "[,,,]".length();

    private WorkerPool(Builder b) {
        this.loop = b.loop != null ? b.loop : EventLoop.shared();
        this.maxInFlight = b.maxInFlight;
        this.maxQueued = b.maxQueued;
        List<Slot> started = new ArrayList<>();
        try {
            for (int i = 0; i < b.workers; i++) {
                started.add(startWorker(b));
            }
        } catch (RuntimeException e) {
            started.forEach(s -> s.child.close());
            throw e;
        }
        List<Long> p = new ArrayList<>();
        started.forEach(s -> p.add((long) s.child.pid()));
        this.pids = List.copyOf(p);
        java.util.Map<Long, Slot> m = new java.util.HashMap<>();
        started.forEach(s -> m.put((long) s.child.pid(), s));
        this.byPid = java.util.Map.copyOf(m);
        this.maxPidDigits = p.stream().mapToInt(x -> Long.toString(x).length()).max().orElse(1);
        loop.runOnLoop(() -> slots.addAll(started));
    }

    /** A pool whose workers are started from {@code worker} (called once per worker). */
    public static Builder builder(Supplier<ChildProcessBuilder> worker) {
        return new Builder(worker);
    }

    private Slot startWorker(Builder b) {
        ChildProcess child = b.worker.get().loop(loop).start();
        Slot s = new Slot(child);
        try {
            s.channel = MessageChannel.builder(Worker.codecs())
                    .handle(EnvelopeCodec.TYPE, Envelope.class, (ctx, e) -> {
                        Consumer<Envelope> l = b.onMessage;
                        if (l != null) {
                            l.accept(e);
                        } else {
                            LOG.debug("worker {} sent {} with nobody listening", child.pid(), e.request());
                        }
                    })
                    .open(child.stdout(), child.stdin());
            try {
                LineReader err = child.errorLines();
                err.listen(line -> LOG.warn("worker {}: {}", child.pid(), line));
            } catch (InvalidArgumentException notAPipe) {
                // stderr goes where the builder said
            }
        } catch (RuntimeException e) {
            child.close();
            throw e;
        }
        child.onExit().whenComplete((status, error) -> loop.runOnLoop(() -> workerExited(s, status)));
        s.channel.closeFuture().whenComplete((v, error) -> loop.runOnLoop(() -> {
            s.alive = false;
            dispatch(); // waiting tasks go to the other workers, or fail if none is left
        }));
        return s;
    }

    /** The workers' pids, in start order. */
    public List<Long> workerPids() {
        return pids;
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
     */
    public LoopFuture<Object> submit(Object data) {
        return enqueue("submit", null, data);
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
     */
    public LoopFuture<Object> submitTo(long workerPid, Object data) {
        Slot target = byPid.get(workerPid);
        if (state == State.RUNNING && (target == null || !target.alive)) {
            LoopFuture<Object> f = new LoopFuture<>();
            f.completeExceptionally(notALiveWorker("submitTo", workerPid, target));
            return f;
        }
        return enqueue("submitTo", target, data);
    }

    /** A task for {@code target} alone, or (null) for whichever worker is free first. */
    private LoopFuture<Object> enqueue(String method, Slot target, Object data) {
        LoopFuture<Object> f = new LoopFuture<>();
        if (state != State.RUNNING) {
            f.completeExceptionally(refusal(method));
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
                if (stopped) {
                    // it passed the state check as shutdown() or close() began, but reached the loop after them
                    queued.decrementAndGet();
                    f.completeExceptionally(refusal(method));
                    taskDone();
                    return;
                }
                (target == null ? queue : target.waiting).add(new Task(payload, f));
                dispatch();
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
                if (stopped) {
                    f.completeExceptionally(refusal("sendTo")); // it raced shutdown() or close() to the loop
                } else if (!target.alive || !target.channel.isOpen()) {
                    f.completeExceptionally(new WorkerExitedException("sendTo: worker " + workerPid
                            + " exited before the \"" + request + "\" envelope could be sent", null));
                } else {
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
     * @throws InvalidArgumentException if {@code request} is null or empty
     * @throws EncodeException if JSON cannot carry {@code data}, or it is too big for a frame
     */
    public void broadcast(String request, Object data) {
        InvalidArgumentException.requireNonNull("request", request);
        RawValue payload = payload(request, data);
        new Envelope(request, pid, 0, null); // checks the word here rather than on the loop, where nobody would see the error
        loop.runOnLoop(() -> {
            for (Slot s : slots) {
                if (s.alive) {
                    s.channel.send(new Envelope(request, pid, s.child.pid(), payload));
                }
            }
        });
    }

    /** True when no task is waiting or running (pymulproc's {@code queue_empty}). */
    public boolean isIdle() {
        return outstanding.get() == 0;
    }

    /** Completes once no task is waiting or running (pymulproc's {@code queue_join}). */
    public LoopFuture<Void> whenIdle() {
        LoopFuture<Void> f = new LoopFuture<>();
        try {
            loop.runOnLoop(() -> {
                if (outstanding.get() == 0) {
                    f.complete(null);
                } else {
                    idleWaiters.add(f);
                }
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop: state problems come back in the future
        }
        return f;
    }

    /**
     * Refuses new tasks at once, lets the tasks already submitted finish, then sends every worker the
     * poison pill; completes with their exit statuses, in start order. Idempotent: later calls return
     * the first call's future.
     */
    public LoopFuture<List<ExitStatus>> shutdown() {
        LoopFuture<List<ExitStatus>> f = new LoopFuture<>();
        if (!shutdown.compareAndSet(null, f)) {
            return shutdown.get();
        }
        moveTo(State.SHUTTING_DOWN);
        try {
            loop.runOnLoop(() -> {
                if (outstanding.get() == 0) {
                    die(f);
                } else {
                    LoopFuture<Void> drained = new LoopFuture<>();
                    idleWaiters.add(drained);
                    drained.thenRun(() -> die(f)); // completed on the loop, by taskDone
                }
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop: it already killed and reaped the workers
        }
        return f;
    }

    /** Kills every worker; their tasks fail with {@link WorkerExitedException}. */
    @Override
    public void close() {
        moveTo(State.CLOSED);
        try {
            loop.runOnLoop(() -> {
                stopped = true;
                slots.forEach(s -> s.child.close());
            });
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
                ? " is not a worker of this pool, whose workers are " + pids
                : " has exited: only a live worker of this pool takes tasks and envelopes"));
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** Moves forward only: a pool closed during its shutdown stays CLOSED. */
    private synchronized void moveTo(State next) {
        if (next.ordinal() > state.ordinal()) {
            state = next;
        }
    }

    // ---- loop thread ----

    private void die(LoopFuture<List<ExitStatus>> f) {
        stopped = true;
        List<CompletableFuture<ExitStatus>> exits = new ArrayList<>();
        try {
            for (Slot s : slots) {
                if (s.alive) {
                    s.channel.send(new Envelope(Envelope.DIE, pid, s.child.pid(), null));
                }
                exits.add(s.child.onExit());
            }
        } catch (RuntimeException e) {
            // Run from a future's stage when tasks were outstanding, where a throw would vanish
            // and leave shutdown() pending for good.
            f.completeExceptionally(e);
            return;
        }
        CompletableFuture.allOf(exits.toArray(new CompletableFuture<?>[0])).whenComplete((v, e) -> {
            moveTo(State.TERMINATED);
            if (e != null) {
                f.completeExceptionally(e);
                return;
            }
            List<ExitStatus> out = new ArrayList<>();
            exits.forEach(x -> out.add(x.join()));
            f.complete(out);
        });
    }

    /**
     * A task's request can fail inline (a channel that already failed but has not closed yet), and
     * its completion calls dispatch again: recursing there would take one stack level per queued
     * task, and a StackOverflowError swallowed by the future would lose tasks. So a nested call only
     * asks the running one to go round again. (Unsendable payloads no longer get this far: submit
     * refuses them, which is how the review's 10,000-task reproduction hit this.)
     */
    private void dispatch() {
        if (dispatching) {
            dispatchAgain = true;
            return;
        }
        dispatching = true;
        try {
            do {
                dispatchAgain = false;
                dispatchOnce();
            } while (dispatchAgain);
        } finally {
            dispatching = false;
        }
    }

    private void dispatchOnce() {
        for (Slot s : slots) {
            if (s.alive && !s.channel.isOpen()) {
                s.alive = false;
            }
            if (!s.alive) {
                failWaiting(s);
                continue;
            }
            // a worker's own tasks come before the pool's: they can go nowhere else
            while (!s.waiting.isEmpty() && s.inFlight < maxInFlight) {
                Task t = s.waiting.poll();
                queued.decrementAndGet();
                run(s, t);
            }
        }
        while (!queue.isEmpty()) {
            Slot best = null;
            for (Slot s : slots) {
                // A worker's pipes can close (it exited, its stdout ended) before its exit is reaped.
                if (s.alive && !s.channel.isOpen()) {
                    s.alive = false;
                }
                if (s.alive && s.inFlight < maxInFlight && (best == null || s.inFlight < best.inFlight)) {
                    best = s;
                }
            }
            if (best == null) {
                if (slots.stream().noneMatch(s -> s.alive) && !slots.isEmpty()) {
                    failQueued(new WorkerExitedException("every worker of the pool has exited", null));
                }
                return;
            }
            Task t = queue.poll();
            queued.decrementAndGet();
            run(best, t);
        }
    }

    private void run(Slot s, Task t) {
        s.inFlight++;
        s.channel.request(new Envelope(Envelope.DO, pid, s.child.pid(), t.data), Envelope.class).whenComplete((reply, e) -> {
            s.inFlight--;
            if (e == null && reply.is(Envelope.FINISHED)) {
                t.future.complete(reply.data());
            } else if (e == null) {
                t.future.completeExceptionally(new UnexpectedReplyException("worker " + s.child.pid() + " answered a task with \""
                        + reply.request() + "\": a task's reply must be " + Envelope.FINISHED, reply));
            } else {
                Throwable cause = unwrap(e);
                if (cause instanceof ChannelClosedException) {
                    s.alive = false; // gone: the tasks waiting for it alone fail in dispatch, none is sent to it
                }
                t.future.completeExceptionally(cause instanceof ChannelClosedException && !(cause instanceof WorkerExitedException)
                        ? new WorkerExitedException("worker " + s.child.pid() + " went away before finishing its task", cause)
                        : cause);
            }
            taskDone();
            dispatch();
        });
    }

    private void taskDone() {
        if (outstanding.decrementAndGet() == 0 && !idleWaiters.isEmpty()) {
            List<LoopFuture<Void>> waiters = new ArrayList<>(idleWaiters);
            idleWaiters.clear();
            waiters.forEach(w -> w.complete(null));
        }
    }

    private void workerExited(Slot s, ExitStatus status) {
        s.alive = false;
        s.channel.close(); // its in-flight requests fail, completing their tasks
        if (status != null && !status.isSuccess()) {
            LOG.warn("worker {} exited: {}", s.child.pid(), status);
        }
        dispatch();
    }

    private void failWaiting(Slot s) {
        while (!s.waiting.isEmpty()) {
            Task t = s.waiting.poll();
            queued.decrementAndGet();
            t.future.completeExceptionally(new WorkerExitedException("worker " + s.child.pid()
                    + " exited before it took the task submitted to it", null));
            taskDone();
        }
    }

    private void failQueued(RuntimeException cause) {
        while (!queue.isEmpty()) {
            Task t = queue.poll();
            queued.decrementAndGet();
            t.future.completeExceptionally(cause);
            taskDone();
        }
    }

    private static final class Slot {
        final ChildProcess child;
        MessageChannel channel;
        final ArrayDeque<Task> waiting = new ArrayDeque<>(); // loop thread only: submitTo's tasks
        int inFlight;
        /** Written on the loop thread; read by submitTo and sendTo to refuse an exited worker at once. */
        volatile boolean alive = true;

        Slot(ChildProcess child) {
            this.child = child;
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

    private record Task(RawValue data, LoopFuture<Object> future) {
    }

    /** Configures a {@link WorkerPool}. Not thread-safe. */
    public static final class Builder {
        private final Supplier<ChildProcessBuilder> worker;
        private int workers = Runtime.getRuntime().availableProcessors();
        private int maxInFlight = 1;
        private int maxQueued = 10_000;
        private Consumer<Envelope> onMessage;
        private EventLoop loop;

        private Builder(Supplier<ChildProcessBuilder> worker) {
            this.worker = InvalidArgumentException.requireNonNull("worker", worker);
        }

        /** How many workers. Default: the number of available processors. */
        public Builder workers(int n) {
            this.workers = InvalidArgumentException.requirePositive("workers", n);
            return this;
        }

        /** Tasks one worker may hold at once. Default 1. */
        public Builder maxInFlightPerWorker(int n) {
            this.maxInFlight = InvalidArgumentException.requirePositive("maxInFlightPerWorker", n);
            return this;
        }

        /** Tasks that may wait for a worker before {@code submit} fails. Default 10,000. */
        public Builder maxQueued(int n) {
            this.maxQueued = InvalidArgumentException.requirePositive("maxQueued", n);
            return this;
        }

        /** Receives the envelopes workers send on their own (progress, partial results), on the loop thread. */
        public Builder onMessage(Consumer<Envelope> listener) {
            this.onMessage = listener;
            return this;
        }

        /** The loop that serves the workers. Default {@link EventLoop#shared()}. */
        public Builder loop(EventLoop eventLoop) {
            this.loop = InvalidArgumentException.requireNonNull("loop", eventLoop);
            return this;
        }

        /** Starts the workers; fails (and kills those already started) if one cannot start. */
        public WorkerPool start() {
            io.dualpipe.core.internal.Jackson.require("WorkerPool"); // before any worker is spawned
            return new WorkerPool(this);
        }
    }
}
