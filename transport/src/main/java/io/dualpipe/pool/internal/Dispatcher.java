package io.dualpipe.pool.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.line.LineTooLongException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.core.message.ReplyTypeException;
import io.dualpipe.pool.FailureCause;
import io.dualpipe.pool.PoolRequestTimeoutException;
import io.dualpipe.worker.PoolSaturatedException;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A pool's requests: the bounded queue, producers waiting for room in it, dispatch to the least
 * busy child, the queue and request timeouts, and each request's one completion. Loop thread
 * only, except {@link #enter} and {@link #loopEnded}.
 */
final class Dispatcher<Q, R> {
    private record RoomWaiter<Q, R>(Q request, LoopFuture<LoopFuture<R>> outer) {
    }

    private final PoolContext<Q, R> ctx;
    private final PoolCore.Settings<Q, R> s;
    private final PoolCounters n;
    private final ArrayDeque<Call<Q, R>> queue = new ArrayDeque<>();
    private final ArrayDeque<RoomWaiter<Q, R>> roomWaiters = new ArrayDeque<>();
    private boolean dispatching;
    private boolean dispatchAgain;
    private int rotor;

    Dispatcher(PoolContext<Q, R> ctx) {
        this.ctx = ctx;
        this.s = ctx.s;
        this.n = ctx.counters;
    }

    boolean queueEmpty() {
        return queue.isEmpty();
    }

    /** Any thread: a request that has its place in {@link PoolCounters#queued} goes to the loop. */
    void enter(Call<Q, R> c) {
        try {
            ctx.loop.runOnLoop(() -> accept(c, true));
        } catch (LoopClosedException e) {
            n.queued.decrementAndGet();
            ctx.refuse(c.future, e);
        }
    }

    /** A producer of {@code submitWhenRoom} found the queue full: it waits here for room, bounded too. */
    void waitForRoom(Q request, LoopFuture<LoopFuture<R>> outer) {
        DualPipeException late = ctx.refusal("submitWhenRoom");
        if (late != null) {
            n.count(late);
            ctx.deliver(outer, null, late);
            ctx.drain.checkDrained(); // a refusal ends nothing a drain waits for, but it must never be the last word
        } else if (roomWaiters.size() >= s.maxQueued()) {
            PoolSaturatedException e = new PoolSaturatedException("submitWhenRoom: maxQueued " + s.maxQueued()
                    + " requests already wait for a child and as many producers wait for room");
            n.count(e);
            ctx.deliver(outer, null, e);
        } else {
            roomWaiters.add(new RoomWaiter<>(request, outer));
            dispatch();
        }
    }

    private void accept(Call<Q, R> c, boolean dispatchNow) {
        // It passed the caller's check while the pool ran: a drain begun since then still takes it.
        DualPipeException refused = ctx.atLeast(PoolContext.Phase.STOPPING) ? ctx.refusal("submit")
                : ctx.respawner.breakerRefusal();
        if (refused != null) {
            n.queued.decrementAndGet();
            n.count(refused);
            ctx.deliver(c.future, null, refused);
            // It was counted as queued: a drain that saw it waits for it, so this may be the drain's end.
            ctx.drain.checkDrained();
            return;
        }
        c.timer = ctx.schedule(() -> queueTimedOut(c), s.queueTimeout().toNanos(), TimeUnit.NANOSECONDS);
        queue.add(c);
        if (ctx.state == PoolContext.Phase.DRAINING) {
            // A draining pool replaces no child while its queue is empty: this request may have none to go to.
            ctx.respawner.reconcile();
        }
        if (dispatchNow) {
            dispatch();
        }
    }

    /**
     * Hands queued requests to children and admits producers waiting for room. A request can fail
     * inline and call back here; the nested call only asks the running one to go round again, so
     * the stack does not grow with the queue.
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
                admitRoomWaiters();
            } while (dispatchAgain);
        } finally {
            dispatching = false;
        }
    }

    private void dispatchOnce() {
        while (!queue.isEmpty()) {
            Member<Q, R> m = leastBusy();
            if (m == null) {
                return;
            }
            Call<Q, R> c = queue.poll();
            n.queued.decrementAndGet();
            c.cancelTimer();
            send(m, c);
        }
    }

    private void admitRoomWaiters() {
        while (!roomWaiters.isEmpty()) {
            if (n.queued.incrementAndGet() > s.maxQueued()) {
                n.queued.decrementAndGet();
                return;
            }
            RoomWaiter<Q, R> w = roomWaiters.poll();
            LoopFuture<R> f = new LoopFuture<>();
            accept(new Call<>(w.request(), f), false);
            ctx.deliver(w.outer(), f, null);
            dispatchAgain = true;
        }
    }

    /** The eligible child with the fewest requests; ties go round, so work spreads. */
    private Member<Q, R> leastBusy() {
        List<Member<Q, R>> members = ctx.members.all();
        Member<Q, R> best = null;
        int size = members.size();
        for (int i = 0; i < size; i++) {
            Member<Q, R> m = members.get((rotor + i) % size);
            if (m.eligible(s.maxInFlightPerChild(), s.recycleAfterRequests())
                    && (best == null || m.inFlight.size() < best.inFlight.size())) {
                best = m;
            }
        }
        rotor++;
        return best;
    }

    private void send(Member<Q, R> m, Call<Q, R> c) {
        c.member = m;
        m.inFlight.add(c);
        n.inFlight.incrementAndGet();
        m.served++;
        c.timer = ctx.schedule(() -> timedOut(c), s.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
        if (s.recycleAfterRequests() > 0 && m.served >= s.recycleAfterRequests() && !m.retiring) {
            ctx.members.retireAfterThis(m);
        }
        LoopFuture<R> reply;
        try {
            reply = m.session.request(c.request);
        } catch (RuntimeException e) {
            reply = LoopFuture.failed(e);
        }
        reply.whenComplete((v, e) -> {
            if (ctx.loop.inEventLoop()) {
                replied(m, c, v, e);
            } else {
                ctx.onLoop(() -> replied(m, c, v, e));
            }
        });
    }

    private void replied(Member<Q, R> m, Call<Q, R> c, R value, Throwable error) {
        if (!c.done) {
            if (error == null) {
                ctx.respawner.succeeded();
                finish(c, value, null);
            } else {
                Throwable cause = Futures.unwrap(error);
                if (requestScoped(cause)) {
                    finish(c, null, cause);
                } else {
                    // The session broke: never trust it again. Its requests fail when the child is reaped.
                    ctx.members.lose(m);
                }
            }
        }
        ctx.members.afterWork(m);
        dispatch();
    }

    /**
     * Failures of one request that leave the exchange in step: the child answered with an error, a
     * reply could not be decoded, a request could not be encoded or was refused as an argument.
     * Anything else may have desynchronised the exchange, so the child is given up.
     */
    private static boolean requestScoped(Throwable e) {
        return e instanceof RemoteException || e instanceof DecodeException || e instanceof EncodeException
                || e instanceof ReplyTypeException || e instanceof LineTooLongException || e instanceof InvalidArgumentException;
    }

    private void queueTimedOut(Call<Q, R> c) {
        if (c.done || c.member != null || !queue.remove(c)) {
            return;
        }
        n.queued.decrementAndGet();
        finish(c, null, new PoolRequestTimeoutException("request " + c.describe() + " waited " + s.queueTimeout()
                + " in the queue and no child of '" + ctx.program + "' took it (" + n.ready + " ready of " + n.alive
                + ", breaker " + n.breakerState + ")", FailureCause.QUEUE_TIMEOUT));
        dispatch();
    }

    private void timedOut(Call<Q, R> c) {
        if (c.done) {
            return;
        }
        Member<Q, R> m = c.member;
        finish(c, null, new PoolRequestTimeoutException("no reply to request " + c.describe() + " from child pid " + m.pid
                + " of '" + ctx.program + "' within " + s.requestTimeout() + ": the child is killed and replaced, so no later"
                + " reply of it can be taken for another request's", FailureCause.TIMEOUT));
        ctx.members.kill(m, "its request " + c.describe() + " got no reply within " + s.requestTimeout(), true);
    }

    /** The one completion of {@code c}: counted, delivered, and the drain told. */
    void finish(Call<Q, R> c, R value, Throwable error) {
        if (c.done) {
            return;
        }
        c.done = true;
        c.cancelTimer();
        if (c.member != null) {
            c.member.inFlight.remove(c);
            n.inFlight.decrementAndGet();
        }
        if (error == null) {
            n.completed.incrementAndGet();
        } else {
            n.count(error);
        }
        ctx.deliver(c.future, value, error);
        ctx.drain.checkDrained();
    }

    void failQueued(Throwable e) {
        while (!queue.isEmpty()) {
            Call<Q, R> c = queue.poll();
            n.queued.decrementAndGet();
            finish(c, null, e);
        }
    }

    void failRoomWaiters(DualPipeException e) {
        while (!roomWaiters.isEmpty()) {
            RoomWaiter<Q, R> w = roomWaiters.poll();
            n.count(e);
            ctx.deliver(w.outer(), null, e);
        }
    }

    /** The loop is gone ({@link Drain#loopEnded}): everything waiting fails with {@code e}, on this thread. */
    void loopEnded(LoopClosedException e) {
        Call<Q, R> c;
        while ((c = queue.poll()) != null) {
            n.queued.decrementAndGet();
            finish(c, null, e);
        }
        RoomWaiter<Q, R> w;
        while ((w = roomWaiters.poll()) != null) {
            w.outer().completeExceptionally(e);
        }
    }
}
