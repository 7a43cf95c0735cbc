package io.dualpipe.pool.internal;

import io.dualpipe.core.Timeout;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Keeps a pool at its size: starts replacements as the backoff and the crash breaker allow, and
 * opens the breaker on a crash loop so that requests then fail at once instead of waiting on
 * children that never come. Loop thread only, except {@link #breakerRefusal()}.
 */
final class Respawner<Q, R> {
    private static final Logger LOG = LoggerFactory.getLogger(PoolCore.class);

    private final PoolContext<Q, R> ctx;
    private final PoolCounters n;
    private final String program;
    private final CrashBreaker breaker;
    /** Non-null while the breaker is open: what requests fail with when no child is ready. */
    private volatile BreakerOpenException breakerOpen;
    private long nextSpawnAt = System.nanoTime();
    private Timeout spawnTimer;
    private Timeout breakerTimer;

    Respawner(PoolContext<Q, R> ctx) {
        this.ctx = ctx;
        this.n = ctx.counters;
        this.program = ctx.program;
        PoolCore.Settings<Q, R> s = ctx.s;
        this.breaker = new CrashBreaker(s.breakerCrashes(), s.breakerWindow(), s.breakerOpenFor(),
                s.backoffInitial(), s.backoffMax());
    }

    /** Any thread: what a new request fails with while the breaker is open and no child is ready, else null. */
    BreakerOpenException breakerRefusal() {
        BreakerOpenException b = breakerOpen;
        if (b != null && n.ready == 0) {
            return new BreakerOpenException(b.getMessage(), b.getCause());
        }
        return null;
    }

    /** A child answered: a half-open breaker closes. */
    void succeeded() {
        CrashBreaker.State before = breaker.state();
        breaker.onSuccess();
        if (before != breaker.state()) {
            n.breakerState = breaker.state();
            LOG.info("children of '{}' answer again: breaker closed", program);
            reconcile();
        }
    }

    /** A child crashed: the backoff grows, and the breaker may open. */
    void crash(ChildExitedException cause) {
        crash(cause.getMessage(), cause);
    }

    /** A child could not start: a crash too, whose cause (the breaker's, too) is the spawn failure itself. */
    private void crash(RuntimeException spawnFailure) {
        crash("a child of '" + program + "' could not start: " + spawnFailure.getMessage(), spawnFailure);
    }

    private void crash(String what, Throwable cause) {
        if (ctx.loop.isClosed()) {
            return;
        }
        long now = System.nanoTime();
        boolean opened = breaker.onCrash(now, cause);
        nextSpawnAt = now + breaker.backoffNanos();
        n.breakerState = breaker.state();
        if (opened) {
            openBreaker(what, cause);
        } else {
            LOG.warn("{}; restarting in {} ms", what, TimeUnit.NANOSECONDS.toMillis(breaker.backoffNanos()));
        }
    }

    private void openBreaker(String what, Throwable cause) {
        BreakerOpenException b = new BreakerOpenException("children of '" + program + "' crashed " + breaker.recentCrashes()
                + " times within " + breaker.window() + ": the pool starts none for " + breaker.openFor()
                + " and fails requests at once meanwhile; the last: " + what, cause);
        breakerOpen = b;
        LOG.error("{}", b.getMessage());
        if (n.ready == 0) {
            ctx.dispatcher.failQueued(b);
            ctx.dispatcher.failRoomWaiters(b);
        }
        if (spawnTimer != null) {
            spawnTimer.cancel();
            spawnTimer = null;
        }
        breakerTimer = ctx.schedule(() -> {
            breakerTimer = null;
            breaker.halfOpen();
            n.breakerState = breaker.state();
            breakerOpen = null;
            nextSpawnAt = System.nanoTime();
            reconcile();
        }, breaker.openFor().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Starts children until the pool has its size again, as the backoff and the breaker allow. */
    void reconcile() {
        if (ctx.loop.isClosed()) {
            return; // closing the loop kills and reaps the children: nothing to replace
        }
        PoolContext.Phase st = ctx.state;
        if (st == PoolContext.Phase.STOPPING || st == PoolContext.Phase.CLOSED
                || (st == PoolContext.Phase.DRAINING && ctx.dispatcher.queueEmpty())) {
            return;
        }
        if (breaker.state() == CrashBreaker.State.OPEN || spawnTimer != null) {
            return;
        }
        int active = ctx.members.active();
        int want = breaker.state() == CrashBreaker.State.HALF_OPEN ? 1 : ctx.s.children();
        while (active < want && breaker.state() != CrashBreaker.State.OPEN) {
            long wait = nextSpawnAt - System.nanoTime();
            if (wait > 0) {
                spawnTimer = ctx.schedule(() -> {
                    spawnTimer = null;
                    reconcile();
                }, wait, TimeUnit.NANOSECONDS);
                return;
            }
            n.spawned.incrementAndGet();
            ChildProcess child;
            try {
                child = ctx.s.child().start();
            } catch (RuntimeException e) {
                crash(e);
                continue;
            }
            ctx.members.adopt(child);
            active++;
        }
    }

    /** No child starts from now on (the pool is stopping); with {@code all}, the breaker's timer goes too. */
    void cancelTimers(boolean all) {
        if (spawnTimer != null) {
            spawnTimer.cancel();
            spawnTimer = null;
        }
        if (all && breakerTimer != null) {
            breakerTimer.cancel();
            breakerTimer = null;
        }
    }
}
