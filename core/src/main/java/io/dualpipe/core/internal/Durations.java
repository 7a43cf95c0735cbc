package io.dualpipe.core.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Timeouts as nanoseconds that deadline arithmetic on {@link System#nanoTime()} can take.
 * {@link Duration#toNanos()} throws past ~292 years, and even a long that fits overflows once added
 * to {@code nanoTime()}; the loop's timers compare deadlines by subtraction, so an overflowed
 * deadline would run first instead of never. Everything is capped at {@link #MAX_NANOS}, ~146 years:
 * "no practical limit", with room to add it to any {@code nanoTime()}.
 */
public final class Durations {
    /** The longest delay a deadline may be from now: ~146 years. */
    public static final long MAX_NANOS = Long.MAX_VALUE / 2;

    private Durations() {
    }

    /** {@code d} in nanoseconds, at most {@link #MAX_NANOS}; {@code d} must not be negative. */
    public static long saturatedNanos(Duration d) {
        try {
            return Math.min(d.toNanos(), MAX_NANOS);
        } catch (ArithmeticException e) {
            return MAX_NANOS;
        }
    }

    /** {@code delay} in {@code unit}, in nanoseconds, at most {@link #MAX_NANOS} (TimeUnit saturates at Long.MAX_VALUE). */
    public static long saturatedNanos(long delay, TimeUnit unit) {
        return Math.min(unit.toNanos(delay), MAX_NANOS);
    }
}
