package io.dualpipe.core.internal;

import io.dualpipe.core.Timeout;

import java.util.concurrent.atomic.AtomicInteger;

/** A scheduled task; its state moves once from PENDING to RAN or CANCELLED, from any thread. */
final class TimerTask implements Timeout {
    private static final int PENDING = 0;
    private static final int RAN = 1;
    private static final int CANCELLED = 2;

    final Runnable task;
    final long deadlineNanos;
    final long sequence;
    /** Position in the loop's heap, -1 when out of it. Loop thread only. */
    int index = -1;
    private final AtomicInteger state = new AtomicInteger(PENDING);
    private final SingleThreadEventLoop loop;

    TimerTask(SingleThreadEventLoop loop, Runnable task, long deadlineNanos, long sequence) {
        this.loop = loop;
        this.task = task;
        this.deadlineNanos = deadlineNanos;
        this.sequence = sequence;
    }

    boolean before(TimerTask other) {
        long d = deadlineNanos - other.deadlineNanos;
        return d < 0 || (d == 0 && sequence < other.sequence);
    }

    /** Claims the right to run; false when it was cancelled first. */
    boolean claim() {
        return state.compareAndSet(PENDING, RAN);
    }

    @Override
    public boolean cancel() {
        if (!state.compareAndSet(PENDING, CANCELLED)) {
            return false;
        }
        loop.timerCancelled(this);
        return true;
    }

    @Override
    public boolean isDone() {
        return state.get() != PENDING;
    }
}
