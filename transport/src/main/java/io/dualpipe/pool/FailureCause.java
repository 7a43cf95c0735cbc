package io.dualpipe.pool;

/** Why a {@link ChildPool} request failed, as counted by {@link PoolMetrics#failedByCause()}. */
public enum FailureCause {
    /** Its child gave no reply within the request timeout: {@link PoolRequestTimeoutException}; the child was killed. */
    TIMEOUT,
    /** It waited in the queue for a child longer than the queue timeout: {@link PoolRequestTimeoutException}. */
    QUEUE_TIMEOUT,
    /** Its child died, or was killed because another of its requests timed out: {@link io.dualpipe.process.ChildExitedException}. */
    CHILD_LOST,
    /** Children kept crashing and the breaker is open: {@link BreakerOpenException}. */
    BREAKER_OPEN,
    /** The queue was full: {@link io.dualpipe.worker.PoolSaturatedException}. */
    SATURATED,
    /** The pool was closed or its drain deadline passed: {@link io.dualpipe.worker.PoolShutdownException}. */
    SHUTDOWN,
    /** The request alone failed (the child reported an error, a reply could not be decoded); its child carries on. */
    REQUEST
}
