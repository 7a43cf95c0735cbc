package io.dualpipe.core.internal;

import org.slf4j.Logger;
import org.slf4j.spi.LocationAwareLogger;

import java.time.Duration;
import java.util.Arrays;

/**
 * Logs that a user's callback (a listener, a handler, a task, a hook) threw, at a bounded rate. A
 * listener that throws on every message of a connection kept for weeks must not write a stack trace
 * per message: that fills the disk and drowns every other warning. Per callback class, the first
 * {@value #PER_CLASS} failures a minute are logged at WARN with their stack trace and the rest at
 * DEBUG; the next WARN line says how many were not ({@link LogLimiter#note}). Keyed by the class, so
 * that one buggy listener's flood hides no other class's first failure; by its name, so that the
 * limiter keeps no class (and its loader) reachable. All classes together log at most
 * {@value #PER_SITE} a minute at one site, except that each class's first failure in a minute is
 * always logged at WARN (at most 256 classes are told apart a minute): however many classes flood,
 * a new one's first failure is seen.
 *
 * <p>One per log site or family of sites (the callback sites of one file), in a static field.
 * Thread-safe. Reached from catch blocks only: while no callback throws, it costs nothing (no lock,
 * no allocation).
 */
public final class CallbackFailureLog {
    /** Failures of one callback class logged at WARN per minute and site. */
    public static final int PER_CLASS = 20;
    /** Failures of all callback classes together logged at WARN per minute and site, first failures of a class aside. */
    public static final int PER_SITE = 10 * PER_CLASS;
    // The logging system's caller data (%C, %L) names the catch site, not this class.
    private static final String FQCN = CallbackFailureLog.class.getName();

    // Made at the first failure: the loop's classes hold one each from their start, and a start-up
    // that never sees a callback throw should not pay for the limiter (issue 11, cold start).
    private volatile LogLimiter limiter;

    public CallbackFailureLog() {
    }

    /** For tests: with a limiter of their own. */
    CallbackFailureLog(LogLimiter limiter) {
        this.limiter = limiter;
    }

    private LogLimiter limiter() {
        LogLimiter l = limiter;
        if (l == null) {
            synchronized (this) {
                l = limiter;
                if (l == null) {
                    l = new LogLimiter(PER_CLASS, PER_SITE, Duration.ofMinutes(1));
                    limiter = l;
                }
            }
        }
        return l;
    }

    /**
     * Logs that {@code callback} threw {@code thrown}: at WARN with the stack trace while its class's
     * budget lasts, else at DEBUG.
     *
     * @param log      the site's logger
     * @param callback what threw, for its class; may be null
     * @param thrown   what it threw
     * @param format   SLF4J's message format, without the throwable
     * @param args     the format's arguments
     */
    public void threw(Logger log, Object callback, Throwable thrown, String format, Object... args) {
        long notLogged = limiter().acquire(callback == null ? "null" : callback.getClass().getName());
        if (notLogged >= 0) {
            Object[] withNote = Arrays.copyOf(args, args.length + 1);
            withNote[args.length] = LogLimiter.note(notLogged);
            log(log, LocationAwareLogger.WARN_INT, format + "{}", withNote, thrown);
        } else if (log.isDebugEnabled()) {
            log(log, LocationAwareLogger.DEBUG_INT, format, args, thrown);
        }
    }

    private static void log(Logger log, int level, String format, Object[] args, Throwable thrown) {
        if (log instanceof LocationAwareLogger located) {
            located.log(null, FQCN, level, format, args, thrown);
            return;
        }
        Object[] withThrown = Arrays.copyOf(args, args.length + 1);
        withThrown[args.length] = thrown;
        if (level == LocationAwareLogger.WARN_INT) {
            log.warn(format, withThrown);
        } else {
            log.debug(format, withThrown);
        }
    }
}
