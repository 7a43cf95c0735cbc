package io.dualpipe.pool.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.worker.PoolShutdownException;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What the roles of a pool share: its settings, loop, phase and counters, and the links between
 * the roles ({@link Dispatcher}, {@link Members}, {@link Respawner}, {@link Drain}), which call one
 * another on the loop thread. {@link #state} is volatile and only moves forward, under this
 * object's monitor; the rest is final.
 */
final class PoolContext<Q, R> {
    /** Forward only; {@link #moveTo} never goes back. */
    enum Phase { RUNNING, DRAINING, STOPPING, CLOSED }

    final PoolCore.Settings<Q, R> s;
    final EventLoop loop;
    final String program;
    final PoolCounters counters = new PoolCounters();
    final LoopFuture<Void> terminated = new LoopFuture<>();
    volatile Phase state = Phase.RUNNING;
    // Set once by PoolCore's constructor, before any task of the pool runs.
    Dispatcher<Q, R> dispatcher;
    Members<Q, R> members;
    Respawner<Q, R> respawner;
    Drain<Q, R> drain;

    PoolContext(PoolCore.Settings<Q, R> s) {
        this.s = s;
        this.loop = s.child().loop();
        this.program = s.child().command().get(0);
    }

    synchronized boolean moveTo(Phase next) {
        if (next.ordinal() <= state.ordinal()) {
            return false;
        }
        state = next;
        return true;
    }

    boolean atLeast(Phase p) {
        return state.ordinal() >= p.ordinal();
    }

    /** Non-null when a new request must be refused: the pool is not running, or the breaker is open with no child ready. */
    DualPipeException refusal(String method) {
        Phase st = state;
        if (st != Phase.RUNNING) {
            return new PoolShutdownException(method + " refused: the pool is " + st.name().toLowerCase()
                    + ": it takes no new requests once shutdown() or close() has been called");
        }
        return respawner.breakerRefusal();
    }

    <T> LoopFuture<T> refuse(LoopFuture<T> f, DualPipeException e) {
        counters.count(e);
        f.completeExceptionally(e);
        return f;
    }

    /**
     * Runs {@code task} on the loop. A loop that refuses it may still be closing (its thread killing
     * the children and running the pool's callbacks): what is left fails in {@link Drain#loopEnded},
     * which the loop's termination future runs once it has ended, not here, on this thread, meanwhile.
     */
    void onLoop(Runnable task) {
        try {
            loop.runOnLoop(task);
        } catch (LoopClosedException closing) {
            // the termination hook (PoolCore's constructor) ends the pool
        }
    }

    /** A timer on the loop; none once the loop is closing (it then kills the children and {@link Drain#loopEnded} fails the rest). */
    Timeout schedule(Runnable task, long delay, TimeUnit unit) {
        try {
            return loop.schedule(task, delay, unit);
        } catch (LoopClosedException closing) {
            return NO_TIMER;
        }
    }

    private static final Timeout NO_TIMER = new Timeout() {
        @Override
        public boolean cancel() {
            return false;
        }

        @Override
        public boolean isDone() {
            return true;
        }
    };

    /** Completes {@code f} on the pool's executor, or here when it has none or rejects the task. */
    <T> void deliver(LoopFuture<T> f, T value, Throwable error) {
        Executor ex = s.executor();
        Runnable complete = () -> {
            if (error == null) {
                f.complete(value);
            } else {
                f.completeExceptionally(error);
            }
        };
        if (ex == null) {
            complete.run();
            return;
        }
        try {
            ex.execute(complete);
        } catch (RejectedExecutionException e) {
            complete.run();
        }
    }
}
