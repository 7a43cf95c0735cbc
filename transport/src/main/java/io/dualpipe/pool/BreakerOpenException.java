package io.dualpipe.pool;

import io.dualpipe.core.DualPipeException;

/**
 * Children kept crashing (the breaker's threshold of crashes within its window), so the pool
 * stopped starting them for a while and fails requests at once instead; the cause is the last
 * crash, e.g. a {@link io.dualpipe.process.ChildExitedException} with the exit status and the
 * stderr tail, or the {@link io.dualpipe.process.SpawnException} of a child that could not start.
 */
public class BreakerOpenException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message the crashes, their window, how long no child starts, and the last crash
     * @param cause   the last crash
     */
    public BreakerOpenException(String message, Throwable cause) {
        super(message, cause);
    }
}
