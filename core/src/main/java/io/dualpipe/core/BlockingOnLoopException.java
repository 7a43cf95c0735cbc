package io.dualpipe.core;

/**
 * Thrown instead of a deadlock when code running on an event-loop thread blocks ({@code get()},
 * {@code join()}) on a library future that is not yet complete: the loop is the thread that would
 * complete it. Chain with {@code thenApply}/{@code thenCompose} instead.
 */
public class BlockingOnLoopException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message what blocked, on which loop thread */
    public BlockingOnLoopException(String message) {
        super(message);
    }
}
