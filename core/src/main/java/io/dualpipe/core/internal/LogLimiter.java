package io.dualpipe.core.internal;

import io.dualpipe.core.InvalidArgumentException;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Bounds how often one log statement that a peer can trigger is written: a client that reconnects
 * with a rejected uid, or sends garbage, in a loop must not be able to fill the server's disk or
 * drown its other warnings. Events carry a key (the uid, the server, the kind of error); each key
 * may log {@code perKey} events per window, and all keys together five times that (or a total of the
 * site's choosing), so that many sources cannot flood either. A key's first event in a window is
 * logged even once the total is spent, so that no flooding source can hide another's first event:
 * at most {@value #MAX_KEYS} keys are told apart per window (past that, new keys share one budget),
 * so a window logs at most the total plus {@value #MAX_KEYS} + 1. The rest are counted, and the next
 * logged event says how many were not (callers send those to DEBUG).
 *
 * <p>One limiter per log site. Thread-safe; the lock is taken only on the path that logs anyway.
 */
public final class LogLimiter {
    static final int MAX_KEYS = 256;
    private static final Object OTHER_KEYS = new Object();

    private final int perKey;
    private final int perWindow;
    private final long windowNanos;
    private final LongSupplier clock;
    private final Map<Object, int[]> logged = new HashMap<>();
    private long windowStart;
    private int loggedInWindow;
    private long notLogged;

    /**
     * @param perKey events logged per key and window, at least 1; all keys together log at most five times as many
     * @param window the window's length
     */
    public LogLimiter(int perKey, Duration window) {
        this(perKey, perKey * 5, window, System::nanoTime);
    }

    /**
     * For sites whose keys the code, not a peer, chooses (the classes of callbacks that threw): all
     * keys together may log more than five keys' worth.
     *
     * @param perKey    events logged per key and window, at least 1
     * @param perWindow events logged per window by all keys together, at least {@code perKey}
     * @param window    the window's length
     */
    public LogLimiter(int perKey, int perWindow, Duration window) {
        this(perKey, perWindow, window, System::nanoTime);
    }

    /** For tests: with a clock of their own, in nanoseconds. */
    LogLimiter(int perKey, Duration window, LongSupplier clock) {
        this(perKey, perKey * 5, window, clock);
    }

    /** For tests: {@link #LogLimiter(int, int, Duration)} with a clock of their own. */
    LogLimiter(int perKey, int perWindow, Duration window, LongSupplier clock) {
        if (perKey < 1) {
            throw new InvalidArgumentException("perKey < 1: " + perKey);
        }
        if (perWindow < perKey) {
            throw new InvalidArgumentException("perWindow < perKey: " + perWindow + " < " + perKey);
        }
        this.perKey = perKey;
        this.perWindow = perWindow;
        this.windowNanos = window.toNanos();
        this.clock = clock;
        this.windowStart = clock.getAsLong();
    }

    /**
     * Counts one event of {@code key} (compared with {@code equals}). {@return -1 if it must not be
     * logged; otherwise how many events of this site were not logged since the last one that was
     * (0 in the common case)}
     */
    public synchronized long acquire(Object key) {
        long now = clock.getAsLong();
        if (now - windowStart >= windowNanos) {
            windowStart = now;
            logged.clear();
            loggedInWindow = 0;
        }
        int[] count = logged.get(key);
        if (count == null) {
            if (logged.size() < MAX_KEYS) {
                count = new int[1];
                logged.put(key, count);
            } else {
                count = logged.computeIfAbsent(OTHER_KEYS, k -> new int[1]);
            }
        }
        if (count[0] < perKey && (loggedInWindow < perWindow || count[0] == 0)) {
            count[0]++;
            loggedInWindow++;
            long n = notLogged;
            notLogged = 0;
            return n;
        }
        notLogged++;
        return -1;
    }

    /** {@return "" for 0, else a note for the log line that {@code notLogged} events of this site were not logged} */
    public static String note(long notLogged) {
        return notLogged <= 0 ? "" : " (" + notLogged + " more warnings from here not logged at WARN before this one)";
    }
}
