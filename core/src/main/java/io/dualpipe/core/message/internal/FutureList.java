package io.dualpipe.core.message.internal;

import io.dualpipe.core.LoopFuture;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A reusable list of send futures, for the {@link Outbound}: the per-batch bookkeeping allocates
 * nothing once grown. Loop thread only.
 */
final class FutureList {
    @SuppressWarnings({"unchecked", "rawtypes"})
    private LoopFuture<Void>[] items = new LoopFuture[8];
    private int count;

    boolean isEmpty() {
        return count == 0;
    }

    void add(LoopFuture<Void> f) {
        if (count == items.length) {
            items = Arrays.copyOf(items, count * 2);
        }
        items[count++] = f;
    }

    /** Moves the futures into a new list (for a write that completes later) and empties this one. */
    List<LoopFuture<Void>> drain() {
        List<LoopFuture<Void>> out = new ArrayList<>(count);
        drainInto(out);
        return out;
    }

    void drainInto(List<LoopFuture<Void>> out) {
        for (int i = 0; i < count; i++) {
            out.add(items[i]);
            items[i] = null;
        }
        count = 0;
    }

    void completeAll(Throwable error) {
        for (int i = 0; i < count; i++) {
            LoopFuture<Void> f = items[i];
            items[i] = null;
            if (error == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(error);
            }
        }
        count = 0;
    }
}
