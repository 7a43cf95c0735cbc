package io.dualpipe.pool;

import io.dualpipe.core.message.RequestTimeoutException;

/**
 * A {@link ChildPool} request got no reply in time: either its child held it longer than the
 * request timeout (the pool then killed and replaced that child, so no later reply can be paired
 * with the wrong request), or it waited in the queue longer than the queue timeout.
 */
public class PoolRequestTimeoutException extends RequestTimeoutException {
    private static final long serialVersionUID = 1L;

    /** Where the request was when its time ran out. */
    private final FailureCause cause;

    /**
     * @param message the request, the timeout and the child (if any)
     * @param cause   {@link FailureCause#TIMEOUT} or {@link FailureCause#QUEUE_TIMEOUT}
     */
    public PoolRequestTimeoutException(String message, FailureCause cause) {
        super(message);
        this.cause = cause;
    }

    /** {@return {@link FailureCause#TIMEOUT} (the child held it) or {@link FailureCause#QUEUE_TIMEOUT}} */
    public FailureCause failureCause() {
        return cause;
    }
}
