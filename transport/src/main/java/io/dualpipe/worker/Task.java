package io.dualpipe.worker;

import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;

/** One submitted task, through its attempts. Loop thread only, except the future. */
final class Task {
    final RawValue data;
    final LoopFuture<Object> future;
    final TaskOptions options;
    /** Submitted to one worker ({@code submitTo}): never retried elsewhere. */
    final boolean pinned;
    int retriesLeft;
    /** Bumped for every attempt and when one is abandoned: a late completion of an older attempt is ignored. */
    int attempt;
    Timeout timer;

    Task(RawValue data, LoopFuture<Object> future, TaskOptions options, boolean pinned) {
        this.pinned = pinned;
        this.data = data;
        this.future = future;
        this.options = options;
        this.retriesLeft = options.retries();
    }

    void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }
}
