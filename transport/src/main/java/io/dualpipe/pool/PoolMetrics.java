package io.dualpipe.pool;

import java.util.Map;

/**
 * A snapshot of a {@link ChildPool}: each field is read at one moment, the fields not necessarily at
 * the same one. Immutable.
 *
 * @param children      children running (starting, ready, draining or being stopped)
 * @param ready         children that take work now
 * @param spawned       children started since the pool began (spawn attempts, failed ones included)
 * @param restarts      children replaced because they crashed, timed out or failed their warm-up
 *                      (recycling and draining are not restarts)
 * @param recycled      children retired after their request count or age
 * @param inFlight      requests sent to a child and not answered yet
 * @param queued        requests waiting for a child
 * @param completed     requests answered
 * @param failed        requests failed, all causes
 * @param failedByCause {@code failed} split by cause (every cause present, zeros included)
 * @param breaker       the crash-loop breaker's state: CLOSED, OPEN or HALF_OPEN
 */
public record PoolMetrics(int children, int ready, long spawned, long restarts, long recycled, int inFlight,
                          int queued, long completed, long failed, Map<FailureCause, Long> failedByCause,
                          String breaker) {
    /**
     * Copies {@code failedByCause}, so the snapshot stays immutable.
     *
     * @param children      children running
     * @param ready         children that take work now
     * @param spawned       children started since the pool began
     * @param restarts      children replaced because they crashed, timed out or failed their warm-up
     * @param recycled      children retired after their request count or age
     * @param inFlight      requests sent to a child and not answered yet
     * @param queued        requests waiting for a child
     * @param completed     requests answered
     * @param failed        requests failed, all causes
     * @param failedByCause {@code failed} split by cause
     * @param breaker       the crash-loop breaker's state
     */
    public PoolMetrics {
        failedByCause = Map.copyOf(failedByCause);
    }
}
