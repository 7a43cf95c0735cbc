package io.dualpipe.process.internal;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.internal.LoopFutures;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * Where a child's futures complete ({@link io.dualpipe.process.ChildProcessBuilder#completeOn}):
 * on the given executor, or, without one, where the loop completes them. Either way a condition of
 * the running system met while making the call (the stream closed, the loop closed) fails the
 * future instead of being thrown at the caller. Thread-safe.
 */
final class Handoff {
    private final Executor executor; // null: complete where the source completes

    Handoff(Executor executor) {
        this.executor = executor;
    }

    /** True when futures are completed on an executor, false when they complete where their source does. */
    boolean hops() {
        return executor != null;
    }

    /** The future {@code call} makes, completed on the executor; cancelling it cancels the source. */
    <T> LoopFuture<T> of(Supplier<? extends CompletableFuture<T>> call) {
        CompletableFuture<T> source;
        try {
            source = call.get();
        } catch (ChannelClosedException | LoopClosedException gone) {
            source = LoopFuture.failed(gone);
        }
        if (executor == null) {
            return source instanceof LoopFuture<T> f ? f : LoopFutures.copyOf(source);
        }
        LoopFuture<T> out = new LoopFuture<>();
        CompletableFuture<T> from = source;
        from.whenComplete((v, e) -> {
            Runnable complete = () -> {
                if (e == null) {
                    out.complete(v);
                } else {
                    out.completeExceptionally(Futures.unwrap(e));
                }
            };
            try {
                executor.execute(complete);
            } catch (RejectedExecutionException rejected) {
                complete.run(); // a shut-down executor: completed here rather than never
            }
        });
        out.whenComplete((v, e) -> {
            if (out.isCancelled()) {
                from.cancel(false);
            }
        });
        return out;
    }
}
