package io.dualpipe.worker;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Futures;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The loop-thread half of a {@link WorkerPool}'s tasks: the queue, dispatch to the least busy
 * worker, each task's {@code DO} request and {@code FINISHED} reply, task timeouts and retries, and
 * the waiters for an idle pool. Its workers, their replacement and the breaker are its
 * {@link WorkerSupervisor}'s, which it makes and which the pool's other parts reach through
 * {@link #workers()}; tasks come in from the callers' threads through {@link TaskIntake}.
 *
 * <p><b>Threading.</b> Every method runs on the pool's loop thread, except {@link #workers()} and
 * {@link #unwrap}, which any thread may call.
 *
 * <p><b>Buffers.</b> A task's data was serialised on the caller's thread into an immutable value,
 * which goes to the worker's channel as it is; a reply's data goes to the task's future as the
 * channel decoded it.
 */
final class WorkerDispatcher {
    private final WorkerPool.Builder b;
    private final EventLoop loop;
    private final long parentPid;
    private final AtomicInteger queued;
    private final AtomicInteger outstanding;
    private final ArrayDeque<Task> queue = new ArrayDeque<>();
    private final List<LoopFuture<Void>> idleWaiters = new ArrayList<>();
    private final WorkerSupervisor workers;
    private boolean dispatching;
    private boolean dispatchAgain;

    WorkerDispatcher(WorkerPool.Builder b, EventLoop loop, long parentPid, AtomicInteger queued, AtomicInteger outstanding) {
        this.b = b;
        this.loop = loop;
        this.parentPid = parentPid;
        this.queued = queued;
        this.outstanding = outstanding;
        this.workers = new WorkerSupervisor(b, loop, parentPid, this::dispatch);
    }

    /** The supervisor of the workers this dispatcher gives tasks to; it calls back {@link #dispatch()}. */
    WorkerSupervisor workers() {
        return workers;
    }

    void add(Task t, Slot target) {
        (target == null ? queue : target.waiting).add(t);
        dispatch();
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
        for (Slot s : workers.slots()) {
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
            for (Slot s : workers.slots()) {
                // A worker's pipes can close (it exited, its stdout ended) before its exit is reaped.
                if (s.alive && !s.channel.isOpen()) {
                    s.alive = false;
                }
                if (s.alive && s.inFlight < b.maxInFlight && (best == null || s.inFlight < best.inFlight)) {
                    best = s;
                }
            }
            if (best == null) {
                RuntimeException none = workers.noneLeft();
                if (none != null) {
                    failQueued(none);
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
        int attempt = ++t.attempt;
        Duration timeout = t.options.timeout() != null ? t.options.timeout() : b.taskTimeout;
        if (timeout != null) {
            t.timer = WorkerBreaker.schedule(loop, () -> timedOut(s, t, attempt, timeout), timeout.toNanos());
        }
        s.channel.request(new Envelope(Envelope.DO, parentPid, s.child.pid(), t.data), Envelope.class).whenComplete((reply, e) -> {
            if (t.attempt != attempt) {
                return; // abandoned when it timed out: its place on the worker was given back then
            }
            t.cancelTimer();
            s.inFlight--;
            if (e == null && reply.is(Envelope.FINISHED)) {
                workers.succeeded();
                t.future.complete(reply.data());
            } else if (e == null) {
                t.future.completeExceptionally(new UnexpectedReplyException("worker " + s.child.pid() + " answered a task with \""
                        + reply.request() + "\": a task's reply must be " + Envelope.FINISHED, reply));
            } else {
                Throwable cause = Futures.unwrap(e);
                if (cause instanceof ChannelClosedException) {
                    s.alive = false; // gone: the tasks waiting for it alone fail in dispatch, none is sent to it
                    if (retry(t)) {
                        dispatch();
                        return;
                    }
                    if (!(cause instanceof WorkerExitedException)) {
                        // Fails once its exit status and last stderr bytes are known, which it quotes.
                        String what = (s.killed ? "was killed (a task of it timed out)" : "went away") + " before finishing its task";
                        workers.afterDeath(s, onLoop -> {
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
        if (t.retriesLeft <= 0 || t.pinned || workers.stopped()) {
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
        workers.kill(s);
        dispatch();
    }

    void taskDone() {
        if (outstanding.decrementAndGet() == 0 && !idleWaiters.isEmpty()) {
            List<LoopFuture<Void>> waiters = new ArrayList<>(idleWaiters);
            idleWaiters.clear();
            waiters.forEach(w -> w.complete(null));
        }
    }


    private void failWaiting(Slot s) {
        while (!s.waiting.isEmpty()) {
            Task t = s.waiting.poll();
            queued.decrementAndGet();
            t.cancelTimer();
            // As its running tasks: it fails once the exit status and last stderr bytes are known.
            workers.afterDeath(s, onLoop -> {
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
