package io.dualpipe.pool.internal;

import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.Timeout;
import io.dualpipe.worker.PoolShutdownException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * How a pool ends: a drain that lets the work finish within a deadline, an abrupt close, or the
 * loop closing under it; and the termination future, completed once every child is buried. Loop
 * thread only, except {@link #loopEnded}.
 */
final class Drain<Q, R> {
    private final PoolContext<Q, R> ctx;
    private Timeout deadlineTimer;

    Drain(PoolContext<Q, R> ctx) {
        this.ctx = ctx;
    }

    /** The pool has moved to DRAINING: producers waiting for room fail, and the deadline starts. */
    void begin(Duration deadline) {
        ctx.dispatcher.failRoomWaiters(new PoolShutdownException("submitWhenRoom: the pool began draining before room came"));
        deadlineTimer = ctx.schedule(() -> abort("the drain deadline of " + deadline + " passed"),
                Math.max(1, deadline.toNanos()), TimeUnit.NANOSECONDS);
        checkDrained();
    }

    /** The pool has moved to CLOSED: everything pending fails, and the children are killed. */
    void closeNow() {
        cancelPoolTimers();
        PoolShutdownException e = new PoolShutdownException("the pool was closed before this request was answered");
        ctx.dispatcher.failQueued(e);
        ctx.dispatcher.failRoomWaiters(e);
        for (Member<Q, R> m : new ArrayList<>(ctx.members.all())) {
            ctx.members.failInFlight(m, e);
            m.killed = true;
            m.child.close();
        }
        checkTerminated();
    }

    /** While draining: once nothing is queued or in flight, the children are asked to stop. */
    void checkDrained() {
        PoolCounters n = ctx.counters;
        if (ctx.state != PoolContext.Phase.DRAINING || n.queued.get() > 0 || n.inFlight.get() != 0) {
            return;
        }
        if (!ctx.moveTo(PoolContext.Phase.STOPPING)) {
            return;
        }
        ctx.respawner.cancelTimers(false);
        for (Member<Q, R> m : new ArrayList<>(ctx.members.all())) {
            ctx.members.stop(m);
        }
        checkTerminated();
    }

    private void abort(String why) {
        deadlineTimer = null;
        if (ctx.atLeast(PoolContext.Phase.CLOSED)) {
            return;
        }
        ctx.moveTo(PoolContext.Phase.STOPPING);
        PoolShutdownException e = new PoolShutdownException("the pool was shut down before this request was answered: " + why);
        ctx.dispatcher.failQueued(e);
        for (Member<Q, R> m : new ArrayList<>(ctx.members.all())) {
            ctx.members.failInFlight(m, e);
            ctx.members.stop(m);
        }
        checkTerminated();
    }

    void checkTerminated() {
        if (!ctx.atLeast(PoolContext.Phase.STOPPING) || !ctx.members.isEmpty() || ctx.terminated.isDone()) {
            return;
        }
        cancelPoolTimers();
        ctx.members.updateCounts();
        ctx.deliver(ctx.terminated, null, null);
    }

    private void cancelPoolTimers() {
        ctx.respawner.cancelTimers(true);
        if (deadlineTimer != null) {
            deadlineTimer.cancel();
        }
        deadlineTimer = null;
    }

    /**
     * The loop closed under the pool (the user closed it first): it killed and reaped the children,
     * and no task will run on it again, so what is left fails here: run by the loop's termination future only,
     * never while the loop is still closing (its thread then still runs the pool's callbacks).
     */
    void loopEnded() {
        synchronized (ctx) { // the monitor of PoolContext.moveTo: the phase moves under it
            if (ctx.terminated.isDone()) {
                return;
            }
            ctx.state = PoolContext.Phase.CLOSED;
            LoopClosedException e = new LoopClosedException("the pool's event loop closed before this request was answered");
            ctx.dispatcher.loopEnded(e);
            for (Member<Q, R> m : new ArrayList<>(ctx.members.all())) {
                for (Call<Q, R> x : new ArrayList<>(m.inFlight)) {
                    ctx.dispatcher.finish(x, null, e);
                }
            }
            ctx.members.all().clear();
            ctx.members.updateCounts();
            ctx.terminated.complete(null);
        }
    }
}
