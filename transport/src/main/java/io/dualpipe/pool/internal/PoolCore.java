package io.dualpipe.pool.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.LoopFutures;
import io.dualpipe.pool.Exchange;
import io.dualpipe.pool.PoolMetrics;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.worker.PoolSaturatedException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

/**
 * The machinery behind {@link io.dualpipe.pool.ChildPool}, split by role: {@link Dispatcher} (queue,
 * dispatch, timeouts), {@link Members} (each child's life), {@link Respawner} (backoff and breaker),
 * {@link Drain} (shutdown and close) and {@link PoolCounters} (metrics), sharing a
 * {@link PoolContext}. Everything but the atomics and volatiles belongs to the loop thread; the
 * public entry points here check what they can on the caller's thread and hand the rest to the loop.
 */
public final class PoolCore<Q, R> {
    /** Everything the builder collected. */
    public record Settings<Q, R>(ChildProcessBuilder child, Exchange<Q, R> exchange, int children, int maxInFlightPerChild,
                                 int maxQueued, Duration requestTimeout, Duration queueTimeout, Duration backoffInitial,
                                 Duration backoffMax, int breakerCrashes, Duration breakerWindow, Duration breakerOpenFor,
                                 long recycleAfterRequests, Duration recycleAfterAge, Q warmUpRequest,
                                 Predicate<? super R> warmUpCheck, Duration warmUpTimeout, Duration stopGrace, int stderrTailBytes,
                                 Executor executor) {
    }

    private final PoolContext<Q, R> ctx;
    private final PoolCounters n;

    public PoolCore(Settings<Q, R> settings) {
        ctx = new PoolContext<>(settings);
        n = ctx.counters;
        ctx.dispatcher = new Dispatcher<>(ctx);
        ctx.members = new Members<>(ctx);
        ctx.respawner = new Respawner<>(ctx);
        ctx.drain = new Drain<>(ctx);
        // The first children start here so that a program that cannot start fails the caller at once.
        List<ChildProcess> started = new ArrayList<>();
        try {
            for (int i = 0; i < settings.children(); i++) {
                started.add(settings.child().start());
                n.spawned.incrementAndGet();
            }
        } catch (RuntimeException e) {
            started.forEach(ChildProcess::close);
            throw e;
        }
        List<Long> p = new ArrayList<>();
        started.forEach(c -> p.add((long) c.pid()));
        n.pids = List.copyOf(p);
        n.alive = p.size();
        ctx.loop.runOnLoop(() -> {
            started.forEach(ctx.members::adopt);
            ctx.members.updateCounts();
        });
        ctx.loop.terminationFuture().whenComplete((v, e) -> ctx.drain.loopEnded());
    }

    public EventLoop loop() {
        return ctx.loop;
    }

    // ---- any thread ----

    public LoopFuture<R> submit(Q request) {
        InvalidArgumentException.requireNonNull("request", request);
        LoopFuture<R> f = new LoopFuture<>();
        DualPipeException refused = ctx.refusal("submit");
        if (refused != null) {
            return ctx.refuse(f, refused);
        }
        if (n.queued.incrementAndGet() > ctx.s.maxQueued()) {
            unqueue();
            return ctx.refuse(f, saturated());
        }
        ctx.dispatcher.enter(new Call<>(request, f));
        return f;
    }

    public LoopFuture<LoopFuture<R>> submitWhenRoom(Q request) {
        InvalidArgumentException.requireNonNull("request", request);
        LoopFuture<LoopFuture<R>> outer = new LoopFuture<>();
        DualPipeException refused = ctx.refusal("submitWhenRoom");
        if (refused != null) {
            return ctx.refuse(outer, refused);
        }
        if (n.queued.incrementAndGet() <= ctx.s.maxQueued()) {
            LoopFuture<R> f = new LoopFuture<>();
            ctx.dispatcher.enter(new Call<>(request, f));
            outer.complete(f);
            return outer;
        }
        unqueue();
        try {
            ctx.loop.runOnLoop(() -> ctx.dispatcher.waitForRoom(request, outer));
        } catch (LoopClosedException e) {
            outer.completeExceptionally(e);
        }
        return outer;
    }

    public PoolMetrics metrics() {
        return n.snapshot();
    }

    public List<Long> childPids() {
        return n.pids;
    }

    public LoopFuture<Void> shutdown(Duration deadline) {
        InvalidArgumentException.requireNonNull("deadline", deadline);
        if (deadline.isNegative()) {
            throw new InvalidArgumentException("deadline < 0: " + deadline);
        }
        if (!ctx.moveTo(PoolContext.Phase.DRAINING)) {
            return terminationFuture();
        }
        ctx.onLoop(() -> ctx.drain.begin(deadline));
        return terminationFuture();
    }

    public void close() {
        if (!ctx.moveTo(PoolContext.Phase.CLOSED)) {
            return;
        }
        ctx.onLoop(ctx.drain::closeNow);
    }

    /** A fresh copy per call: a caller's cancel or orTimeout must not change what the pool and other callers see. */
    public LoopFuture<Void> terminationFuture() {
        return LoopFutures.copyOf(ctx.terminated);
    }

    /**
     * Takes back a place counted on this thread and refused. A drain that checked meanwhile saw that
     * place and waits for it; nothing on the loop will check again for it, so this thread asks.
     */
    private void unqueue() {
        n.queued.decrementAndGet();
        if (ctx.state == PoolContext.Phase.DRAINING) {
            ctx.onLoop(ctx.drain::checkDrained);
        }
    }

    private PoolSaturatedException saturated() {
        return new PoolSaturatedException("maxQueued " + ctx.s.maxQueued() + " requests already wait for a child of '"
                + ctx.program + "'");
    }
}
