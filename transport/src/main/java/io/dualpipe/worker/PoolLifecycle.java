package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.LoopFutures;
import io.dualpipe.process.ExitStatus;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where a {@link WorkerPool} is in its life, as its callers see it: running, shutting down
 * (refusing new work while the work already taken drains, then sending the workers DIE),
 * terminated, or closed (the workers killed); {@link #shutdown()} and {@link #close()}, which move it
 * on; and the refusal a task or envelope gets once it is not running.
 *
 * <p><b>Threading.</b> Any thread: the state is volatile and only moves forward, under this
 * object's lock; the work itself ({@link WorkerDispatcher#whenIdle}, {@link WorkerSupervisor#die},
 * {@link WorkerSupervisor#killAll()}) is handed to the loop thread, where the futures complete.
 *
 * <p><b>Buffers.</b> It holds none; the one shutdown future stays here, and each caller gets a
 * copy of it.
 */
final class PoolLifecycle {
    /** In the order a pool goes through them; {@link #moveTo} never goes back. */
    enum State { RUNNING, SHUTTING_DOWN, TERMINATED, CLOSED }

    private final EventLoop loop;
    private final WorkerDispatcher dispatcher;
    private final WorkerSupervisor workers;
    private volatile State state = State.RUNNING;
    private final AtomicReference<LoopFuture<List<ExitStatus>>> shutdown = new AtomicReference<>();

    PoolLifecycle(EventLoop loop, WorkerDispatcher dispatcher, WorkerSupervisor workers) {
        this.loop = loop;
        this.dispatcher = dispatcher;
        this.workers = workers;
    }

    /** True until {@code shutdown()} or {@code close()} has been called. */
    boolean running() {
        return state == State.RUNNING;
    }

    /** What {@code method} fails with once the pool is not running; names the state it is in now. */
    PoolShutdownException refusal(String method) {
        return new PoolShutdownException(method + " refused: the pool is " + state
                + ": it takes no new tasks or envelopes once shutdown() or close() has been called");
    }

    /** See {@link WorkerPool#shutdown()}. */
    LoopFuture<List<ExitStatus>> shutdown() {
        LoopFuture<List<ExitStatus>> f = new LoopFuture<>();
        if (!shutdown.compareAndSet(null, f)) {
            return LoopFutures.copyOf(shutdown.get());
        }
        moveTo(State.SHUTTING_DOWN);
        try {
            loop.runOnLoop(() -> {
                LoopFuture<Void> drained = new LoopFuture<>();
                dispatcher.whenIdle(drained);
                drained.thenRun(() -> workers.die(f, () -> moveTo(State.TERMINATED))); // on the loop, by taskDone
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop: it already killed and reaped the workers
        }
        return LoopFutures.copyOf(f); // the pool's own stays out of callers' hands: a cancel would reach them all
    }

    /** See {@link WorkerPool#close()}. */
    void close() {
        moveTo(State.CLOSED);
        try {
            loop.runOnLoop(workers::killAll);
        } catch (io.dualpipe.core.LoopClosedException alreadyDone) {
            // closing the loop killed and reaped every worker: nothing is left to close
        }
    }

    /** Moves forward only: a pool closed during its shutdown stays CLOSED. */
    private synchronized void moveTo(State next) {
        if (next.ordinal() > state.ordinal()) {
            state = next;
        }
    }
}
