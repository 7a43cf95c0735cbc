package io.dualpipe.worker;

import io.dualpipe.core.DualPipeException;

/** {@link WorkerPool#submit} or {@link WorkerPool#submitTo} found {@code maxQueued} tasks already waiting for a worker. */
public class PoolSaturatedException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the limit that was reached */
    public PoolSaturatedException(String message) {
        super(message);
    }
}
