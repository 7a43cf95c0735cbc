package io.dualpipe.worker;

import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.EncodeException;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The caller's side of a {@link WorkerPool}'s tasks: what {@code submit} and {@code submitTo} check
 * and refuse before a task exists (a pool not running, an open breaker, a pid that is no live
 * worker, an unsendable payload, a full queue), the counts of tasks waiting and not yet done, and
 * the hop of each task to the {@link WorkerDispatcher} on the loop thread.
 *
 * <p><b>Threading.</b> Any thread. A refusal fails the returned future on the caller's thread; a
 * task that raced {@code shutdown()} or {@code close()} to the loop fails there. The two counters
 * are atomics shared with the dispatcher, which takes them down on the loop thread.
 *
 * <p><b>Buffers.</b> The caller's data is serialised here ({@link PayloadEncoder}) before the task
 * is queued; the caller may change its object afterwards.
 */
final class TaskIntake {
    private final EventLoop loop;
    private final PoolLifecycle lifecycle;
    private final WorkerSupervisor workers;
    private final WorkerDispatcher dispatcher;
    private final PayloadEncoder encoder;
    private final int maxQueued;
    /** Tasks waiting for a worker, the pool's queue and every worker's own. */
    private final AtomicInteger queued;
    /** Tasks submitted and not yet done. */
    private final AtomicInteger outstanding;

    TaskIntake(EventLoop loop, PoolLifecycle lifecycle, WorkerSupervisor workers, WorkerDispatcher dispatcher,
               PayloadEncoder encoder, int maxQueued, AtomicInteger queued, AtomicInteger outstanding) {
        this.loop = loop;
        this.lifecycle = lifecycle;
        this.workers = workers;
        this.dispatcher = dispatcher;
        this.encoder = encoder;
        this.maxQueued = maxQueued;
        this.queued = queued;
        this.outstanding = outstanding;
    }

    /** See {@link WorkerPool#submitTo}. */
    LoopFuture<Object> submitTo(long workerPid, Object data) {
        Slot target = workers.byPid(workerPid);
        if (lifecycle.running() && (target == null || !target.alive)) {
            LoopFuture<Object> f = new LoopFuture<>();
            f.completeExceptionally(workers.notALiveWorker("submitTo", workerPid, target));
            return f;
        }
        return enqueue("submitTo", target, data, TaskOptions.defaults());
    }

    /** A task for {@code target} alone, or (null) for whichever worker is free first; {@code method} names the caller in refusals. */
    LoopFuture<Object> enqueue(String method, Slot target, Object data, TaskOptions options) {
        LoopFuture<Object> f = new LoopFuture<>();
        if (!lifecycle.running()) {
            f.completeExceptionally(lifecycle.refusal(method));
            return f;
        }
        RuntimeException open = target == null ? workers.breakerRefusal() : null;
        if (open != null) {
            f.completeExceptionally(open);
            return f;
        }
        RawValue payload;
        try {
            payload = encoder.encode(Envelope.DO, data);
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
                if (workers.stopped()) {
                    // it passed the state check as shutdown() or close() began, but reached the loop after them
                    queued.decrementAndGet();
                    f.completeExceptionally(lifecycle.refusal(method));
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

    /** True when no task is waiting or running. */
    boolean isIdle() {
        return outstanding.get() == 0;
    }

    /** See {@link WorkerPool#whenIdle()}. */
    LoopFuture<Void> whenIdle() {
        LoopFuture<Void> f = new LoopFuture<>();
        try {
            loop.runOnLoop(() -> dispatcher.whenIdle(f));
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop: state problems come back in the future
        }
        return f;
    }
}
