package io.dualpipe.worker;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.process.ExitStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The loop-thread half of a {@link WorkerPool}: its workers, the queue, dispatch to the least busy
 * worker, task timeouts and retries, and supervision (a dead worker is replaced after a backoff,
 * and a crash loop opens a breaker: {@link WorkerBreaker}; starting a worker and reporting its
 * death: {@link WorkerLife}). Every method runs on the pool's loop thread, except
 * {@link #breakerRefusal()} and the volatile pid list.
 */
final class WorkerDispatcher {
    /** A worker whose pipes closed gets this long to exit by itself (and show its status) before SIGKILL. */
    private static final long PIPES_CLOSED_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
    /** Dead workers remembered (for {@code shutdown()}'s statuses and "has exited" messages); older ones are forgotten. */
    private static final int DEAD_KEPT = 64;

    private final WorkerPool.Builder b;
    private final EventLoop loop;
    private final long parentPid;
    private final AtomicInteger queued;
    private final AtomicInteger outstanding;
    private final Map<Long, Slot> byPid; // concurrent: read by the callers of submitTo and sendTo
    private final List<Slot> slots = new ArrayList<>();
    private final ArrayDeque<Task> queue = new ArrayDeque<>();
    private final List<LoopFuture<Void>> idleWaiters = new ArrayList<>();
    private final WorkerBreaker breaker;
    private final WorkerLife life;
    private volatile List<Long> pids = List.of();
    private volatile int live;
    private boolean dispatching;
    private boolean dispatchAgain;
    /** DIE sent or workers killed: no task may start, no worker is replaced. */
    boolean stopped;
    /** Workers the user stopped with sendTo(pid, DIE): the pool keeps that many fewer. */
    private int retired;

    WorkerDispatcher(WorkerPool.Builder b, EventLoop loop, long parentPid, AtomicInteger queued, AtomicInteger outstanding,
                     Map<Long, Slot> byPid) {
        this.b = b;
        this.loop = loop;
        this.parentPid = parentPid;
        this.queued = queued;
        this.outstanding = outstanding;
        this.byPid = byPid;
        this.breaker = new WorkerBreaker(b, loop, this::reconcile);
        this.life = new WorkerLife(b, loop);
    }

    /** Starts a worker and wires its channel, stderr and exit; any thread (the constructor's, then the loop). */
    Slot startWorker() {
        Slot s = life.start(this::workerExited, closed -> {
            closed.alive = false;
            if (!closed.dieSent && !closed.exit.isDone()) {
                // Its pipes closed unasked but it lives on: it will never answer, and shutdown()
                // would wait for its exit for good. Killed after a grace, as ChildPool's lost children.
                schedule(() -> {
                    if (!closed.exit.isDone()) {
                        closed.child.close();
                    }
                }, PIPES_CLOSED_GRACE_NANOS);
            }
            dispatch(); // waiting tasks go to the other workers, or fail if none is left
        });
        byPid.put((long) s.child.pid(), s);
        return s;
    }

    /** The first workers' pids, known to the callers before the loop adopts them. */
    void publish(List<Slot> started) {
        List<Long> p = new ArrayList<>();
        started.forEach(s -> p.add((long) s.child.pid()));
        pids = List.copyOf(p);
        live = p.size();
    }

    void adopt(List<Slot> started) {
        slots.addAll(started);
        updatePids();
    }

    List<Long> pids() {
        return pids;
    }

    List<Slot> slots() {
        return slots;
    }

    /** Non-null when the breaker is open and no worker is alive: what a new task fails with. */
    BreakerOpenException breakerRefusal() {
        return breaker.refusal(live);
    }

    void add(Task t, Slot target) {
        (target == null ? queue : target.waiting).add(t);
        dispatch();
    }

    void retire(Slot s) {
        if (!s.dieSent) {
            s.dieSent = true;
            retired++;
        }
    }

    void whenIdle(LoopFuture<Void> f) {
        if (outstanding.get() == 0) {
            f.complete(null);
        } else {
            idleWaiters.add(f);
        }
    }

    /**
     * A task's request can fail inline (a channel that already failed but has not closed yet), and
     * its completion calls dispatch again: recursing there would take one stack level per queued
     * task, and a StackOverflowError swallowed by the future would lose tasks. So a nested call only
     * asks the running one to go round again.
     */
    void dispatch() {
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
            while (!s.waiting.isEmpty() && s.inFlight < b.maxInFlight) {
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
                if (s.alive && s.inFlight < b.maxInFlight && (best == null || s.inFlight < best.inFlight)) {
                    best = s;
                }
            }
            if (best == null) {
                if (slots.stream().noneMatch(s -> s.alive) && !slots.isEmpty() && !replacementComing()) {
                    BreakerOpenException open = breaker.open();
                    failQueued(open != null ? open : new WorkerExitedException("every worker of the pool has exited", null));
                }
                return;
            }
            Task t = queue.poll();
            queued.decrementAndGet();
            run(best, t);
        }
    }

    /** True while a dead worker will be replaced: queued tasks wait for it rather than fail. */
    private boolean replacementComing() {
        return b.respawn && !stopped && breaker.open() == null && wanted() > 0;
    }

    private int wanted() {
        int n = b.workers - retired;
        return breaker.isHalfOpen() ? Math.min(1, n) : n;
    }

    private void run(Slot s, Task t) {
        s.inFlight++;
        int attempt = ++t.attempt;
        Duration timeout = t.options.timeout() != null ? t.options.timeout() : b.taskTimeout;
        if (timeout != null) {
            t.timer = schedule(() -> timedOut(s, t, attempt, timeout), timeout.toNanos());
        }
        s.channel.request(new Envelope(Envelope.DO, parentPid, s.child.pid(), t.data), Envelope.class).whenComplete((reply, e) -> {
            if (t.attempt != attempt) {
                return; // abandoned when it timed out: its place on the worker was given back then
            }
            t.cancelTimer();
            s.inFlight--;
            if (e == null && reply.is(Envelope.FINISHED)) {
                breaker.succeeded();
                t.future.complete(reply.data());
            } else if (e == null) {
                t.future.completeExceptionally(new UnexpectedReplyException("worker " + s.child.pid() + " answered a task with \""
                        + reply.request() + "\": a task's reply must be " + Envelope.FINISHED, reply));
            } else {
                Throwable cause = WorkerPool.unwrap(e);
                if (cause instanceof ChannelClosedException) {
                    s.alive = false; // gone: the tasks waiting for it alone fail in dispatch, none is sent to it
                    if (retry(t)) {
                        dispatch();
                        return;
                    }
                    if (!(cause instanceof WorkerExitedException)) {
                        // Fails once its exit status and last stderr bytes are known, which it quotes.
                        String what = (s.killed ? "was killed (a task of it timed out)" : "went away") + " before finishing its task";
                        life.afterDeath(s, onLoop -> {
                            t.future.completeExceptionally(WorkerLife.exited(s, what, cause));
                            if (onLoop) {
                                taskDone();
                                dispatch();
                            }
                        });
                        return;
                    }
                }
                t.future.completeExceptionally(cause);
            }
            taskDone();
            dispatch();
        });
    }

    /** Puts an idempotent task back at the head of the queue if it has a retry left. */
    private boolean retry(Task t) {
        if (t.retriesLeft <= 0 || t.pinned || stopped) {
            return false;
        }
        t.retriesLeft--;
        queued.incrementAndGet();
        queue.addFirst(t);
        return true;
    }

    private void timedOut(Slot s, Task t, int attempt, Duration timeout) {
        if (t.attempt != attempt || t.future.isDone()) {
            return;
        }
        t.attempt++; // abandons this attempt: its late completion is ignored
        t.timer = null;
        s.inFlight--;
        if (!retry(t)) {
            t.future.completeExceptionally(new TaskTimeoutException("no reply from worker " + s.child.pid() + " within " + timeout
                    + ": the worker is killed and replaced, so its late reply can never be taken for another task's"));
            taskDone();
        }
        kill(s);
        dispatch();
    }

    private void kill(Slot s) {
        s.killed = true;
        s.alive = false;
        updatePids();
        s.child.close(); // its other tasks fail (or are retried) as its channel closes
        reconcile();
    }

    void taskDone() {
        if (outstanding.decrementAndGet() == 0 && !idleWaiters.isEmpty()) {
            List<LoopFuture<Void>> waiters = new ArrayList<>(idleWaiters);
            idleWaiters.clear();
            waiters.forEach(w -> w.complete(null));
        }
    }

    private void workerExited(Slot s) {
        ExitStatus status = s.exit.isCompletedExceptionally() ? null : s.exit.join();
        s.alive = false;
        s.channel.close(); // its in-flight requests fail, completing their tasks
        if (status != null && !status.isSuccess() && !s.killed && !stopped) {
            LOG.warn("worker {} exited: {}", s.child.pid(), status);
        }
        if (!s.exitHandled) {
            s.exitHandled = true;
            if (!stopped && !s.dieSent && !s.killed && b.respawn && !loop.isClosed()) {
                crash(WorkerLife.exited(s, "exited unasked", null));
            }
            updatePids();
            forgetOldDead();
            reconcile();
        }
        dispatch();
    }

    private void crash(RuntimeException cause) {
        if (breaker.crash(cause)) {
            dispatch(); // with no worker alive, the queue fails now
        }
    }

    /** Starts workers until the pool has its size again, as the backoff and the breaker allow. */
    void reconcile() {
        if (stopped || !b.respawn || loop.isClosed() || breaker.waiting() || breaker.isOpen()) {
            return;
        }
        int alive = 0;
        for (Slot s : slots) {
            if (s.alive && !s.dieSent) {
                alive++;
            }
        }
        while (alive < wanted() && !breaker.isOpen()) {
            if (!breaker.spawnNow()) {
                return;
            }
            try {
                slots.add(startWorker());
                alive++;
            } catch (RuntimeException e) {
                crash(e);
            }
        }
        updatePids();
        dispatch();
    }

    private void forgetOldDead() {
        int dead = 0;
        for (Slot s : slots) {
            if (!s.alive) {
                dead++;
            }
        }
        for (int i = 0; i < slots.size() && dead > DEAD_KEPT; i++) {
            Slot s = slots.get(i);
            if (!s.alive && s.waiting.isEmpty() && s.inFlight == 0) {
                slots.remove(i--);
                byPid.remove((long) s.child.pid());
                dead--;
            }
        }
    }

    private void updatePids() {
        List<Long> p = new ArrayList<>();
        for (Slot s : slots) {
            if (s.alive) {
                p.add((long) s.child.pid());
            }
        }
        pids = List.copyOf(p);
        live = p.size();
    }

    private Timeout schedule(Runnable task, long nanos) {
        try {
            return loop.schedule(task, nanos, TimeUnit.NANOSECONDS);
        } catch (LoopClosedException closing) {
            return null;
        }
    }

    /** Sends DIE to every live worker and completes {@code f} with every worker's exit status, in start order. */
    void die(LoopFuture<List<ExitStatus>> f, Runnable terminated) {
        stop();
        WorkerLife.die(slots, parentPid, f, terminated);
    }

    /** No task starts and no worker is replaced from now on. */
    void stop() {
        stopped = true;
        breaker.stop();
    }

    void killAll() {
        stop();
        slots.forEach(s -> s.child.close());
    }

    private void failWaiting(Slot s) {
        while (!s.waiting.isEmpty()) {
            Task t = s.waiting.poll();
            queued.decrementAndGet();
            t.cancelTimer();
            // As its running tasks: it fails once the exit status and last stderr bytes are known.
            life.afterDeath(s, onLoop -> {
                t.future.completeExceptionally(WorkerLife.exited(s, "exited before it took the task submitted to it", null));
                if (onLoop) {
                    taskDone();
                }
            });
        }
    }

    private void failQueued(RuntimeException cause) {
        while (!queue.isEmpty()) {
            Task t = queue.poll();
            queued.decrementAndGet();
            t.cancelTimer();
            t.future.completeExceptionally(cause);
            taskDone();
        }
    }
}
