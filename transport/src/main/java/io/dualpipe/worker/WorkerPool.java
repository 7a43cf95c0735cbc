package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.pool.internal.CrashBreaker;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
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

    // The callers' side of the pool; what runs on the loop thread is the dispatcher's and the supervisor's.
    private final WorkerSupervisor workers;
    private final PoolLifecycle lifecycle;
    private final TaskIntake tasks;
    private final EnvelopePost post;

    private WorkerPool(Builder b) {
        EventLoop loop = b.loop != null ? b.loop : EventLoop.shared();
        long pid = ProcessHandle.current().pid();
        AtomicInteger queued = new AtomicInteger();
        AtomicInteger outstanding = new AtomicInteger();
        WorkerDispatcher dispatcher = new WorkerDispatcher(b, loop, pid, queued, outstanding);
        this.workers = dispatcher.workers();
        List<Slot> started = workers.startFirst(b.workers);
        PayloadEncoder encoder = new PayloadEncoder(pid, started);
        this.lifecycle = new PoolLifecycle(loop, dispatcher, workers);
        this.tasks = new TaskIntake(loop, lifecycle, workers, dispatcher, encoder, b.maxQueued, queued, outstanding);
        this.post = new EnvelopePost(loop, pid, lifecycle, workers, encoder);
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
        return workers.pids();
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
        return tasks.enqueue("submit", null, data, TaskOptions.defaults());
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
        return tasks.enqueue("submit", null, data, InvalidArgumentException.requireNonNull("options", options));
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
        return tasks.submitTo(workerPid, data);
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
        return post.sendTo(workerPid, request, data);
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
        post.broadcast(request, data);
    }

    /** {@return true when no task is waiting or running (pymulproc's {@code queue_empty})} */
    public boolean isIdle() {
        return tasks.isIdle();
    }

    /**
     * Completes once no task is waiting or running (pymulproc's {@code queue_join}).
     *
     * @return a new future, completed on the loop thread
     */
    public LoopFuture<Void> whenIdle() {
        return tasks.whenIdle();
    }

    /**
     * Refuses new tasks at once, lets the tasks already submitted finish, then sends every worker the
     * poison pill; completes with their exit statuses, in start order. Idempotent: each call gets its own
     * copy of the one shutdown's outcome (a caller's cancel stays with that caller).
     *
     * @return the workers' exit statuses, in start order
     */
    public LoopFuture<List<ExitStatus>> shutdown() {
        return lifecycle.shutdown();
    }

    /** Kills every worker; their tasks fail with {@link WorkerExitedException}. */
    @Override
    public void close() {
        lifecycle.close();
    }

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
