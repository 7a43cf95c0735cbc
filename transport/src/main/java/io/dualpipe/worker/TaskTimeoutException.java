package io.dualpipe.worker;

import io.dualpipe.core.message.RequestTimeoutException;

/**
 * A {@link WorkerPool} task got no reply within its timeout (and had no retry left). Its worker was
 * killed and replaced, so a late reply can never be taken for another task's.
 */
public class TaskTimeoutException extends RequestTimeoutException {
    private static final long serialVersionUID = 1L;

    /** @param message the worker and the timeout */
    public TaskTimeoutException(String message) {
        super(message);
    }
}
