package io.dualpipe.core.line;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.RequestFailures;

/** One request of a {@link Conversation} awaiting its reply. */
final class PendingReply<T> {
    final String request;         // for messages
    final ReplyReader<T> reader;  // null: a reply of one line
    final LoopFuture<T> future = new LoopFuture<>();
    /** How a failure ends {@link #future}; null: with the failure as it is. */
    private final RequestFailures failures;
    long id;                      // id correlation only; set under the conversation's lock
    boolean removed;              // guarded by the conversation's lock: taken off its FIFO queue
    byte[] unsent;                // guarded by the conversation's lock: the line, until it is written
    volatile Timeout timer;
    /**
     * Set before the timer is cancelled, so a requester that assigns the timer afterwards sees it and
     * cancels the timer itself. The future is no such signal: a {@link RequestFailures} may complete
     * it later (a dead child's request waits for the exit status).
     */
    volatile boolean settled;
    private String single;
    private boolean started;      // loop thread: a line of the reply was taken

    PendingReply(String request, ReplyReader<T> reader, RequestFailures failures) {
        this.request = request;
        this.reader = reader;
        this.failures = failures;
    }

    /** Feeds one reply line; true when the reply is complete. A reader's exception propagates. Loop thread. */
    boolean take(String line) {
        started = true;
        if (reader == null) {
            single = line;
            return true;
        }
        return reader.onLine(line);
    }

    /** True once a line of the reply was taken. Loop thread. */
    boolean started() {
        return started;
    }

    void finish() {
        settled = true;
        cancelTimer();
        T result;
        try {
            @SuppressWarnings("unchecked") // reader == null only for request(String...), whose T is String
            T one = (T) single;
            result = reader == null ? one : reader.result();
        } catch (RuntimeException e) {
            failNow(e);
            return;
        }
        future.complete(result);
    }

    void fail(Throwable cause) {
        settled = true;
        cancelTimer();
        failNow(cause);
    }

    /** Fails the future (through {@link #failures} if any), leaving the timer alone: it has fired, or never was. */
    void failNow(Throwable cause) {
        settled = true;
        if (failures == null) {
            future.completeExceptionally(cause);
        } else {
            failures.fail(request, cause, future);
        }
    }

    private void cancelTimer() {
        Timeout t = timer;
        if (t != null) {
            t.cancel();
        }
    }
}
