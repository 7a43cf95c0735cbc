package io.dualpipe.core.message.internal;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Futures;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;

/**
 * Those waiting on an {@link Outbound}: for it to be writable again (at or below the low water
 * mark) and for it to be drained (every accepted frame taken by the kernel); with the helpers that
 * complete a list of futures and read a finished write's failure.
 *
 * <p><b>Threading.</b> Loop-confined, as the {@code Outbound} that owns it: every call is made on the
 * loop thread, so nothing here locks. The {@code Outbound} decides when each list is due (it owns the
 * byte count and the failure); the lists are taken before they are completed, so a waiter's
 * callback that waits again joins a fresh list.
 *
 * <p><b>Buffers.</b> None: only futures, which are ours until completed here or handed to the
 * {@code Outbound} to fail.
 */
final class Waiters {
    private List<LoopFuture<Void>> writable;
    private List<LoopFuture<Void>> drained;

    /** A new future, completed by {@link #wakeWritable()}. */
    LoopFuture<Void> awaitWritable() {
        LoopFuture<Void> waiter = new LoopFuture<>();
        if (writable == null) {
            writable = new ArrayList<>();
        }
        writable.add(waiter);
        return waiter;
    }

    /** A new future, completed by {@link #wakeDrained()}. */
    LoopFuture<Void> awaitDrained() {
        LoopFuture<Void> waiter = new LoopFuture<>();
        if (drained == null) {
            drained = new ArrayList<>();
        }
        drained.add(waiter);
        return waiter;
    }

    /** The queue went back to the low water mark: completes those waiting for writability. */
    void wakeWritable() {
        List<LoopFuture<Void>> waiters = writable;
        writable = null;
        completeAll(waiters, null);
    }

    /** The queue is empty: completes those waiting for a drain (allocating nothing when there are none). */
    void wakeDrained() {
        if (drained != null) {
            List<LoopFuture<Void>> waiters = drained;
            drained = null;
            completeAll(waiters, null);
        }
    }

    /** Moves every waiter, writability's then drain's, into {@code failed}, for the Outbound to fail. */
    void drainInto(List<LoopFuture<Void>> failed) {
        if (writable != null) {
            failed.addAll(writable);
            writable = null;
        }
        if (drained != null) {
            failed.addAll(drained);
            drained = null;
        }
    }

    /** The failure of a finished write, or null if it succeeded. */
    static Throwable causeOf(LoopFuture<Void> done) {
        if (!done.isCompletedExceptionally()) {
            return null;
        }
        try {
            done.join();
            return null;
        } catch (CompletionException | CancellationException e) {
            return Futures.unwrap(e);
        }
    }

    static void completeAll(List<LoopFuture<Void>> futures, Throwable error) {
        if (futures == null) {
            return;
        }
        for (LoopFuture<Void> f : futures) {
            if (error == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(error);
            }
        }
    }
}
