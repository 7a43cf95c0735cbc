package io.dualpipe;

import io.dualpipe.core.EventLoop;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Synchronising a test with an event loop, for every transport test package. */
public final class TestLoops {
    private static final long BOUND_SECONDS = 30;

    private TestLoops() {
    }

    /** Returns once every task handed to {@code loop} before this call has run. */
    public static void drain(EventLoop loop) throws Exception {
        onLoop(loop, () -> null);
    }

    /** Runs {@code s} on the loop thread and returns its value (or throws what it threw, wrapped). */
    public static <T> T onLoop(EventLoop loop, Supplier<T> s) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(s.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(BOUND_SECONDS, TimeUnit.SECONDS);
    }
}
