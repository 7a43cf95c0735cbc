package io.dualpipe.pool.internal;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;

/**
 * One request of a pool, from submit to its answer. Loop thread only, except the future, which the
 * pool completes once (on its executor, or the loop).
 */
final class Call<Q, R> {
    final Q request;
    final LoopFuture<R> future;
    Member<Q, R> member;   // null while queued
    Timeout timer;         // the queue timeout while queued, the request timeout once sent
    boolean done;

    Call(Q request, LoopFuture<R> future) {
        this.request = request;
        this.future = future;
    }

    void cancelTimer() {
        Timeout t = timer;
        timer = null;
        if (t != null) {
            t.cancel();
        }
    }

    /** The request for messages, cut short: a request may be large. */
    String describe() {
        String s = String.valueOf(request);
        return s.length() > 80 ? "'" + s.substring(0, 77) + "...'" : "'" + s + "'";
    }
}
