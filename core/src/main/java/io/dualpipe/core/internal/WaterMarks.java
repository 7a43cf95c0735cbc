package io.dualpipe.core.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;

import java.util.ArrayList;
import java.util.List;

/**
 * The backpressure of a {@link WriteHalf}: writers are told to hold back once more than the high
 * water mark is queued, and woken once the queue has drained to the low one.
 *
 * <p>Not thread-safe by itself: every call is made under the write half's lock. The futures it hands
 * back are completed by the write half, outside that lock.
 */
final class WaterMarks {
    private final int highWater;
    private final int lowWater;
    private boolean writable = true;
    private List<LoopFuture<Void>> waiters;

    WaterMarks(int highWater, int lowWater) {
        this.highWater = InvalidArgumentException.requirePositive("highWaterMark", highWater);
        if (lowWater < 0 || lowWater > highWater) {
            throw new InvalidArgumentException("lowWaterMark must be in [0, highWaterMark=" + highWater + "]: " + lowWater);
        }
        this.lowWater = lowWater;
    }

    /** Below the high water mark (or drained back to the low one since). */
    boolean writable() {
        return writable;
    }

    /** {@code queued} bytes wait now, after a write was queued. */
    void grew(long queued) {
        if (queued > highWater) {
            writable = false;
        }
    }

    /** {@code queued} bytes wait now, after some were written: the writers to wake, or null. */
    List<LoopFuture<Void>> drained(long queued) {
        if (writable || queued > lowWater) {
            return null;
        }
        writable = true;
        return takeWaiters();
    }

    /** {@code f} completes when the queue drains (it is not writable now). */
    void await(LoopFuture<Void> f) {
        if (waiters == null) {
            waiters = new ArrayList<>();
        }
        waiters.add(f);
    }

    /** Every waiting writer, for the write half to fail (the stream failed or closed); null if none. */
    List<LoopFuture<Void>> takeWaiters() {
        List<LoopFuture<Void>> w = waiters;
        waiters = null;
        return w;
    }
}
