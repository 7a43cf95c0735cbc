package io.dualpipe.pool;

import io.dualpipe.core.message.RequestTimeoutException;

/**
 * A {@link ChildPool} request got no reply in time: either its child held it longer than the
 * request timeout (the pool then killed and replaced that child, so no later reply can be paired
 * with the wrong request), or it waited in the queue longer than the queue timeout.
 */
public class PoolRequestTimeoutException extends RequestTimeoutException {
    private static final long serialVersionUID = 1L;

    private final FailureCause cause;

    public PoolRequestTimeoutException(String message, FailureCause cause) {
        super(message);
        this.cause = cause;
    }

    /** {@link FailureCause#TIMEOUT} (the child held it) or {@link FailureCause#QUEUE_TIMEOUT}. */
    public FailureCause failureCause() {
        return cause;
    }
}
