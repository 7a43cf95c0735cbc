package io.dualpipe.core.line;

import io.dualpipe.core.ConsumerConflictException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.CallbackFailureLog;
import io.dualpipe.core.internal.LazyLogger;

import java.util.ArrayDeque;

/**
 * Who takes a {@link LineReader}'s lines: its pending {@code readLine()} futures (pull mode) or its
 * listener (push mode), never both. The reader queues what nobody takes; this class only hands over.
 * An item is a {@code String} line, a {@link LineTooLongException}, {@link #END}, or the stream's
 * error (any other {@code Throwable}); the last two are terminal.
 *
 * <p><b>Threading.</b> Loop thread only, except {@link #ended}, which any thread may read. Futures
 * complete and the listener runs on the loop thread, from inside these calls: a taker may call back
 * into its reader, so callers leave their state consistent before handing an item over.
 *
 * <p><b>Buffers.</b> None: lines are {@code String}s, each the taker's to keep.
 */
final class LineDelivery {
    // Named as the reader, as before the split: logs and their configuration name the public type.
    private static final LazyLogger LOG = new LazyLogger(LineReader.class);
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();
    /** The end of the stream, as an item. */
    static final Object END = new Object();

    // Small at first, grown as needed: mostly empty, and a fan-out holds a reader per child.
    private final ArrayDeque<LoopFuture<String>> waiting = new ArrayDeque<>(1);
    private LineReader.Listener listener;
    /** Set once a terminal item has been delivered; read by {@link LineReader#isEnded()}. */
    volatile boolean ended;

    /** {@return true for an item after which none follows: the end, or the stream's error} */
    static boolean terminal(Object item) {
        return item == END || (item instanceof Throwable && !(item instanceof LineTooLongException));
    }

    /** Adds a {@code readLine()} future; false, having failed it, when a listener holds the stream. */
    boolean await(LoopFuture<String> f) {
        if (listener != null) {
            f.completeExceptionally(new ConsumerConflictException("readLine() while a line listener is set"));
            return false;
        }
        waiting.add(f);
        return true;
    }

    /**
     * Sets the listener (null: back to pull mode). A listener taking the stream over fails the pending
     * {@code readLine()} calls: on the loop a throw would only be logged, so the callers are the ones to tell.
     */
    void listen(LineReader.Listener l) {
        if (l != null && !waiting.isEmpty()) {
            ConsumerConflictException e = new ConsumerConflictException(
                    "a line listener took the stream over while " + waiting.size() + " readLine() calls were pending");
            LoopFuture<String> f;
            while ((f = waiting.poll()) != null) {
                f.completeExceptionally(e);
            }
        }
        listener = l;
    }

    /** {@return true when a listener is set (push mode)} */
    boolean listening() {
        return listener != null;
    }

    /** {@return true when a terminal item would be taken now: a listener, or a waiting future} */
    boolean anyTaker() {
        return listener != null || !waiting.isEmpty();
    }

    /**
     * Hands one item to a waiter or the listener; false when nobody takes it now. A terminal item
     * goes to every waiter and still returns false in pull mode, so that the reader keeps it for
     * later {@code readLine()} calls.
     */
    boolean deliverNow(Object item) {
        if (listener != null) {
            LineReader.Listener l = listener;
            try {
                if (item instanceof String) {
                    l.onLine((String) item);
                } else if (item instanceof LineTooLongException) {
                    l.onLineTooLong((LineTooLongException) item);
                } else if (item == END) {
                    ended = true;
                    l.onEnd();
                } else {
                    ended = true;
                    l.onError((Throwable) item);
                }
            } catch (Throwable t) {
                FAILURES.threw(LOG.get(), l, t, "line listener {} threw", l);
            }
            return true;
        }
        if (terminal(item)) {
            // terminal: every waiter gets it, and every later readLine() too
            ended = true;
            while (!waiting.isEmpty()) {
                complete(waiting.poll(), item);
            }
            return false;
        }
        LoopFuture<String> f;
        while ((f = waiting.poll()) != null) {
            // one its caller cancelled or timed out must not eat the line
            if (!f.isDone() && complete(f, item)) {
                return true;
            }
        }
        return false;
    }

    /** False when {@code f} was already completed (cancelled, timed out) by someone else. */
    private static boolean complete(LoopFuture<String> f, Object item) {
        if (item instanceof String) {
            return f.complete((String) item);
        } else if (item == END) {
            return f.complete(null);
        } else {
            return f.completeExceptionally((Throwable) item);
        }
    }
}
