package io.dualpipe.worker;

import io.dualpipe.core.DualPipeException;

/**
 * {@link WorkerPool#submit}, {@link WorkerPool#submitTo} or {@link WorkerPool#sendTo} was called after
 * {@link WorkerPool#shutdown()} or {@link WorkerPool#close()}.
 */
public class PoolShutdownException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the pool and the call it refused */
    public PoolShutdownException(String message) {
        super(message);
    }
}
