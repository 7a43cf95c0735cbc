package io.dualpipe.core.internal;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Bounds how often one log statement that a peer can trigger is written: a client that reconnects
 * with a rejected uid, or sends garbage, in a loop must not be able to fill the server's disk or
 * drown its other warnings. At most {@code perWindow} events per window are logged; the rest are
 * counted, and the next logged one says how many were not (callers send those to DEBUG).
 *
 * <p>One limiter per log site, shared by every connection: the flood is what matters, not who sends
 * it. Thread-safe; the lock is taken only on the path that logs anyway.
 */
public final class LogLimiter {
    private final int perWindow;
    private final long windowNanos;
    private final LongSupplier clock;
    private long windowStart;
    private int logged;
    private long notLogged;

    /**
     * @param perWindow events logged per window, at least 1
     * @param window    the window's length
     */
    public LogLimiter(int perWindow, Duration window) {
        this(perWindow, window, System::nanoTime);
    }

    /** For tests: with a clock of their own, in nanoseconds. */
    LogLimiter(int perWindow, Duration window, LongSupplier clock) {
        if (perWindow < 1) {
            throw new io.dualpipe.core.InvalidArgumentException("perWindow < 1: " + perWindow);
        }
        this.perWindow = perWindow;
        this.windowNanos = window.toNanos();
        this.clock = clock;
        this.windowStart = clock.getAsLong();
    }

    /**
     * Counts one event. {@return -1 if it must not be logged; otherwise how many events were not
     * logged since the last one that was (0 in the common case)}
     */
    public synchronized long acquire() {
        long now = clock.getAsLong();
        if (now - windowStart >= windowNanos) {
            windowStart = now;
            logged = 0;
        }
        if (logged < perWindow) {
            logged++;
            long n = notLogged;
            notLogged = 0;
            return n;
        }
        notLogged++;
        return -1;
    }

    /** {@return "" for 0, else a note for the log line that {@code notLogged} similar events were not logged} */
    public static String note(long notLogged) {
        return notLogged <= 0 ? "" : " (" + notLogged + " more like it not logged at WARN before this one)";
    }
}
