package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.Timeout;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.pool.internal.CrashBreaker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * When a {@link WorkerSupervisor} may start a worker again: the backoff after crashes, and the
 * breaker a crash loop opens, during which tasks fail at once while no worker is alive. Loop thread
 * only, except {@link #refusal} and {@link #open()}.
 */
final class WorkerBreaker {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

    private final CrashBreaker breaker;
    private final EventLoop loop;
    /** The supervisor's reconcile: runs when a worker may start again. */
    private final Runnable reconcile;
    private volatile BreakerOpenException open;
    private long nextSpawnAt = System.nanoTime();
    private Timeout spawnTimer;
    private Timeout breakerTimer;

    WorkerBreaker(WorkerPool.Builder b, EventLoop loop, Runnable reconcile) {
        this.breaker = new CrashBreaker(b.breakerCrashes, b.breakerWindow, b.breakerOpenFor, b.backoffInitial, b.backoffMax);
        this.loop = loop;
        this.reconcile = reconcile;
    }

    /** Any thread: what a new task fails with while the breaker is open and no worker is alive, else null. */
    BreakerOpenException refusal(int live) {
        BreakerOpenException b = open;
        return b != null && live == 0 ? copy(b) : null;
    }

    /** Any thread: a fresh copy of the open breaker's failure, or null while it is not open. */
    BreakerOpenException open() {
        BreakerOpenException b = open;
        return b == null ? null : copy(b);
    }

    private static BreakerOpenException copy(BreakerOpenException b) {
        return new BreakerOpenException(b.getMessage(), b.getCause());
    }

    boolean isOpen() {
        return breaker.state() == CrashBreaker.State.OPEN;
    }

    boolean isHalfOpen() {
        return breaker.state() == CrashBreaker.State.HALF_OPEN;
    }

    /** A task was answered: a half-open breaker closes, and the pool fills up again. */
    void succeeded() {
        CrashBreaker.State before = breaker.state();
        breaker.onSuccess();
        if (before != breaker.state()) {
            LOG.info("workers answer again: breaker closed");
            reconcile.run();
        }
    }

    /** A worker crashed or could not start: the backoff grows; true if this opened the breaker. */
    boolean crash(RuntimeException cause) {
        long now = System.nanoTime();
        boolean opened = breaker.onCrash(now, cause);
        nextSpawnAt = now + breaker.backoffNanos();
        if (!opened) {
            return false;
        }
        BreakerOpenException b = new BreakerOpenException("workers crashed " + breaker.recentCrashes() + " times within "
                + breaker.window() + ": the pool starts none for " + breaker.openFor()
                + " and fails tasks at once while no worker is alive; the last: " + cause.getMessage(), cause);
        open = b;
        LOG.error("{}", b.getMessage());
        if (spawnTimer != null) {
            spawnTimer.cancel();
            spawnTimer = null;
        }
        breakerTimer = schedule(loop, () -> {
            breakerTimer = null;
            breaker.halfOpen();
            open = null;
            nextSpawnAt = System.nanoTime();
            reconcile.run();
        }, breaker.openFor().toNanos());
        return true;
    }

    /** True while a start waits for its backoff: {@link #reconcile} runs when it ends. */
    boolean waiting() {
        return spawnTimer != null;
    }

    /** True if a worker may start now; otherwise the backoff's end is scheduled to {@link #reconcile}. */
    boolean spawnNow() {
        long wait = nextSpawnAt - System.nanoTime();
        if (wait <= 0) {
            return true;
        }
        spawnTimer = schedule(loop, () -> {
            spawnTimer = null;
            reconcile.run();
        }, wait);
        return false;
    }

    /** No worker starts from now on. */
    void stop() {
        for (Timeout t : new Timeout[] {spawnTimer, breakerTimer}) {
            if (t != null) {
                t.cancel();
            }
        }
        spawnTimer = null;
        breakerTimer = null;
    }

    /**
     * {@code task} on {@code loop} after {@code nanos}, or null when the loop is closing (its
     * shutdown fails the pool): the dispatcher, the supervisor and the breaker all schedule this way.
     */
    static Timeout schedule(EventLoop loop, Runnable task, long nanos) {
        try {
            return loop.schedule(task, nanos, TimeUnit.NANOSECONDS);
        } catch (LoopClosedException closing) {
            return null;
        }
    }
}
