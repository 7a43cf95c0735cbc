package io.dualpipe.core.internal;

import io.dualpipe.core.LoopFuture;

import java.util.concurrent.CompletableFuture;

/**
 * Hands out the library's long-lived futures (a child's exit, a stream's end, a loop's termination)
 * without handing out the futures themselves.
 *
 * <p>A {@link CompletableFuture} is writable by whoever holds it: {@code cancel}, {@code complete},
 * {@code obtrudeValue} and {@code orTimeout} all change it for every other holder, and the library's
 * own later completion is then ignored. So each caller gets a fresh {@link LoopFuture} that follows
 * the library's one, as the JDK's {@code Process.onExit()} does: whatever a caller does to its copy
 * stays with that copy, and neither the library nor another caller sees it.
 */
public final class LoopFutures {
    private LoopFutures() {
    }

    /**
     * A new future that completes as {@code source} does: the same value, or the same exception as it
     * is (not wrapped in a {@code CompletionException}, so {@code handle}/{@code whenComplete} see what
     * they would have seen on {@code source}). Being a {@link LoopFuture}, blocking on it from a loop
     * thread while it is incomplete still fails fast.
     *
     * <p>Until {@code source} completes, each copy is one small node on it: callers that poll should
     * keep the future they got rather than ask for a new one each time.
     */
    public static <T> LoopFuture<T> copyOf(CompletableFuture<T> source) {
        LoopFuture<T> copy = new LoopFuture<>();
        source.whenComplete((value, error) -> {
            if (error != null) {
                copy.completeExceptionally(error);
            } else {
                copy.complete(value);
            }
        });
        return copy;
    }
}
