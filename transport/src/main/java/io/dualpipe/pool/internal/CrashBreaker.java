package io.dualpipe.pool.internal;

import io.dualpipe.core.InvalidArgumentException;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Decides when a supervisor may start a child again after children crashed: exponential backoff
 * between attempts, and a breaker that opens after {@code threshold} crashes within {@code window}
 * so that a child which can never start (a bad path, a missing library, {@code exit 1}) costs a few
 * spawns rather than a spinning loop. After {@code openFor} the breaker lets one probe child start
 * (half-open); the probe's first answer closes it, its crash opens it again.
 *
 * <p>Pure bookkeeping on a clock the caller passes in (nanoseconds); not thread-safe: the owner
 * calls it from its loop thread only. Shared by {@link io.dualpipe.pool.ChildPool} and the
 * {@link io.dualpipe.worker.WorkerPool}.
 */
public final class CrashBreaker {
    /** Where the breaker is: children start freely, none may start, or one probe may. */
    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final int threshold;
    private final long windowNanos;
    private final long openNanos;
    private final long backoffInitialNanos;
    private final long backoffMaxNanos;
    private final ArrayDeque<Long> crashes = new ArrayDeque<>();
    private int consecutive;
    private State state = State.CLOSED;
    private long openedAt;
    private Throwable lastCause;

    public CrashBreaker(int threshold, Duration window, Duration openFor, Duration backoffInitial, Duration backoffMax) {
        this.threshold = InvalidArgumentException.requirePositive("breaker threshold", threshold);
        this.windowNanos = positive("breaker window", window);
        this.openNanos = positive("breaker openFor", openFor);
        this.backoffInitialNanos = positive("backoff initial", backoffInitial);
        this.backoffMaxNanos = positive("backoff max", backoffMax);
        if (backoffMaxNanos < backoffInitialNanos) {
            throw new InvalidArgumentException("backoff max < initial: " + backoffMax + " < " + backoffInitial);
        }
    }

    private static long positive(String name, Duration d) {
        InvalidArgumentException.requireNonNull(name, d);
        if (d.isNegative() || d.isZero()) {
            throw new InvalidArgumentException(name + " <= 0: " + d);
        }
        return d.toNanos();
    }

    /**
     * A child crashed (exited unasked, could not start, failed its warm-up) at {@code now}.
     *
     * @return true if this crash opened the breaker
     */
    public boolean onCrash(long now, Throwable cause) {
        lastCause = cause;
        consecutive++;
        crashes.addLast(now);
        while (!crashes.isEmpty() && now - crashes.peekFirst() > windowNanos) {
            crashes.removeFirst();
        }
        if (state == State.HALF_OPEN || (state == State.CLOSED && crashes.size() >= threshold)) {
            state = State.OPEN;
            openedAt = now;
            return true;
        }
        return false;
    }

    /** A child answered: crashes stop counting as consecutive, and a half-open breaker closes. */
    public void onSuccess() {
        consecutive = 0;
        if (state == State.HALF_OPEN) {
            state = State.CLOSED;
            crashes.clear();
        }
    }

    /** How long to wait after the last crash before the next start: 0 after none, then initial, 2x, 4x ... up to max. */
    public long backoffNanos() {
        if (consecutive == 0) {
            return 0;
        }
        int shift = Math.min(consecutive - 1, 30);
        long d = backoffInitialNanos << shift;
        return d < 0 || d > backoffMaxNanos ? backoffMaxNanos : d;
    }

    /** Nanoseconds until an open breaker may go half-open; 0 when it is not open or the time has come. */
    public long openRemainingNanos(long now) {
        return state == State.OPEN ? Math.max(0, openNanos - (now - openedAt)) : 0;
    }

    /** Lets one probe start: call once {@link #openRemainingNanos} has reached 0. */
    public void halfOpen() {
        if (state == State.OPEN) {
            state = State.HALF_OPEN;
        }
    }

    public State state() {
        return state;
    }

    /** What the last crash was, for the failures an open breaker gives. */
    public Throwable lastCause() {
        return lastCause;
    }

    /** Crashes recorded within the window as of the last crash. */
    public int recentCrashes() {
        return crashes.size();
    }

    public int threshold() {
        return threshold;
    }

    public Duration window() {
        return Duration.ofNanos(windowNanos);
    }

    public Duration openFor() {
        return Duration.ofNanos(openNanos);
    }
}
