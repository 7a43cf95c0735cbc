package io.dualpipe.core.internal;

import java.util.concurrent.CompletionException;

/**
 * The failure a future's callback means, for the library's own callbacks. A dependent stage
 * ({@code thenApply}, {@code thenCompose}, {@code join}) hands its callbacks the original failure
 * wrapped in a {@link CompletionException}; failing a caller's future with that wrapper would make
 * the caller unwrap twice, and {@code instanceof} checks on the library's exceptions would miss.
 *
 * <p>Stateless: any thread may call it. It holds no buffers.
 */
public final class Futures {
    private Futures() {
    }

    /**
     * {@code e}'s cause if {@code e} is a {@link CompletionException} that has one, else {@code e}
     * itself (null stays null, so a {@code whenComplete} callback may pass its error unchecked).
     * One level only: the JDK wraps once, however many stages the failure passed through.
     */
    public static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
