package io.dualpipe.pool.internal;

import io.dualpipe.core.LoopClosedException;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.pool.FailureCause;
import io.dualpipe.pool.PoolMetrics;
import io.dualpipe.pool.PoolRequestTimeoutException;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A pool's counters, read by {@link io.dualpipe.pool.ChildPool#metrics()} on any thread. The
 * loop thread writes the volatile gauges; {@link #queued} is also the bound that {@code submit}
 * checks on the caller's thread, so it counts requests on their way to the queue too.
 */
final class PoolCounters {
    final AtomicInteger queued = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicLong spawned = new AtomicLong();
    final AtomicLong restarts = new AtomicLong();
    final AtomicLong recycled = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    private final AtomicLongArray failed = new AtomicLongArray(FailureCause.values().length);
    volatile int alive;
    volatile int ready;
    volatile List<Long> pids = List.of();
    volatile CrashBreaker.State breakerState = CrashBreaker.State.CLOSED;

    /** One more failed request, under the cause its error names. */
    void count(Throwable e) {
        failed.incrementAndGet(causeOf(e).ordinal());
    }

    private static FailureCause causeOf(Throwable e) {
        if (e instanceof PoolRequestTimeoutException t) {
            return t.failureCause();
        } else if (e instanceof ChildExitedException) {
            return FailureCause.CHILD_LOST;
        } else if (e instanceof BreakerOpenException) {
            return FailureCause.BREAKER_OPEN;
        } else if (e instanceof PoolSaturatedException) {
            return FailureCause.SATURATED;
        } else if (e instanceof PoolShutdownException || e instanceof LoopClosedException) {
            return FailureCause.SHUTDOWN;
        }
        return FailureCause.REQUEST;
    }

    PoolMetrics snapshot() {
        Map<FailureCause, Long> byCause = new EnumMap<>(FailureCause.class);
        long total = 0;
        for (FailureCause c : FailureCause.values()) {
            long n = failed.get(c.ordinal());
            byCause.put(c, n);
            total += n;
        }
        return new PoolMetrics(alive, ready, spawned.get(), restarts.get(), recycled.get(), inFlight.get(),
                Math.max(0, queued.get()), completed.get(), total, byCause, breakerState.name());
    }
}
