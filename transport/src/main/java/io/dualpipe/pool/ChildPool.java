package io.dualpipe.pool;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.pool.internal.PoolCore;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcessBuilder;

import java.time.Duration;
import java.util.List;

/**
 * N long-running children of one {@link ChildProcessBuilder}, answering requests, that a server can
 * hold for its whole life: {@code bc -q}, a {@code python3 -u} model server, a Java worker.
 *
 * <pre>{@code
 * ChildPool<String, String> pool = ChildPool.lines(ChildProcess.builder("bc", "-q"))
 *         .children(4).requestTimeout(Duration.ofSeconds(2)).start();
 * pool.submit("6*7").thenAccept(System.out::println);   // 42
 * pool.shutdown(Duration.ofSeconds(5));                 // finish the work, then stop the children
 * }</pre>
 *
 * <p><b>Dispatch.</b> A request goes to the ready child with the fewest requests in flight (at most
 * {@code maxInFlightPerChild}, 1 by default); when none has room it waits in a bounded queue.
 * {@link #submit} fails fast when the queue is full ({@link io.dualpipe.worker.PoolSaturatedException});
 * {@link #submitWhenRoom} lets the producer wait for room instead.
 *
 * <p><b>Never a wrong answer.</b> A child that holds a request longer than {@code requestTimeout}
 * fails it with a {@link PoolRequestTimeoutException} and is killed at once: its other requests
 * fail with a {@link ChildExitedException}, and its conversation is never used again, so a reply it
 * owed can never be taken for another request's. A replacement starts.
 *
 * <p><b>Supervision.</b> A child that exits or whose stdout ends fails its requests with a
 * {@link ChildExitedException} carrying its exit status and the tail of its stderr, and is replaced,
 * after an exponential backoff when children keep crashing. A crash loop ({@code breaker}: K
 * crashes within a window) opens a breaker: no child starts for a while and, when no child is ready,
 * requests fail at once with a {@link BreakerOpenException} naming the last crash instead of
 * spinning; then one probe child starts and its first answer closes the breaker. Children can be
 * recycled after N requests or an age (a replacement starts first; the old child finishes its
 * requests, then its stdin is closed and, after {@code stopGrace}, it is terminated), and may have
 * to answer a warm-up request before they take work.
 *
 * <p><b>Stderr.</b> Every child's stderr, when it is a pipe, is read continuously into a bounded
 * tail ({@code stderrTail}, 64 KiB), so a child that writes a lot there never stalls, and the
 * failures it causes quote it.
 *
 * <p><b>Stopping.</b> {@link #shutdown(Duration)} drains: no new requests, the queued and in-flight
 * ones finish within the deadline (those that do not fail with a
 * {@link io.dualpipe.worker.PoolShutdownException}), then each child's stdin is closed and it is
 * terminated after the grace. {@link #close()} is abrupt: everything pending fails with a
 * {@link io.dualpipe.worker.PoolShutdownException} and the children are killed. Either way
 * {@link #terminationFuture()} completes once every child has been reaped: nothing keeps running,
 * no zombie, no descriptor.
 *
 * <p><b>Threading.</b> Every method is thread-safe. The pool's futures complete on the loop thread,
 * or on the executor given to {@link ChildPoolBuilder#completeOn}. Conditions of the running system
 * (a lost child, an open breaker, a full queue, a closed pool) reach the caller through the
 * returned future, never as an exception thrown by the call; only a null argument throws.
 *
 * @param <Q> what a request is ({@code String} for lines)
 * @param <R> what a reply is
 */
public final class ChildPool<Q, R> implements AutoCloseable {
    private final PoolCore<Q, R> core;

    ChildPool(PoolCore<Q, R> core) {
        this.core = core;
    }

    /**
     * A pool whose children answer one line with one line ({@link Exchange#lines()}).
     *
     * @param child how to start each child
     * @return a builder with the defaults
     */
    public static ChildPoolBuilder<String, String> lines(ChildProcessBuilder child) {
        return new ChildPoolBuilder<>(child, Exchange.lines());
    }

    /**
     * A pool speaking {@code exchange} with its children, e.g. {@link Exchange#messages} for frames.
     *
     * @param <Q>      what a request is
     * @param <R>      what a reply is
     * @param child    how to start each child
     * @param exchange how to talk to each child
     * @return a builder with the defaults
     */
    public static <Q, R> ChildPoolBuilder<Q, R> builder(ChildProcessBuilder child, Exchange<Q, R> exchange) {
        return new ChildPoolBuilder<>(child, exchange);
    }

    /**
     * Sends {@code request} to the least busy child, or queues it; completes with the reply. Fails
     * (through the future) with a {@link io.dualpipe.worker.PoolSaturatedException} when the queue is
     * full, {@link PoolRequestTimeoutException}, {@link ChildExitedException},
     * {@link BreakerOpenException}, {@link io.dualpipe.worker.PoolShutdownException}, or what the
     * child answered instead of a reply ({@link FailureCause#REQUEST}).
     *
     * @param request the request, not null
     * @return the reply
     * @throws io.dualpipe.core.InvalidArgumentException if {@code request} is null
     */
    public LoopFuture<R> submit(Q request) {
        return core.submit(request);
    }

    /**
     * As {@link #submit}, but a full queue makes the producer wait instead of failing: the returned
     * future completes once the request has its place, with the future of its reply, so a producer
     * can chain {@code submitWhenRoom(q).thenCompose(reply -> reply)} and issue its next request
     * when this one is queued. Producers waiting for room are bounded too (as many as
     * {@code maxQueued}); past that it fails with a {@link io.dualpipe.worker.PoolSaturatedException}.
     *
     * @param request the request, not null
     * @return completes, once the request is queued or sent, with the future of its reply
     * @throws io.dualpipe.core.InvalidArgumentException if {@code request} is null
     */
    public LoopFuture<LoopFuture<R>> submitWhenRoom(Q request) {
        return core.submitWhenRoom(request);
    }

    /** {@return a snapshot of the pool's counters} */
    public PoolMetrics metrics() {
        return core.metrics();
    }

    /** {@return the pids of the children that may still answer, at this moment} */
    public List<Long> childPids() {
        return core.childPids();
    }

    /** {@return the loop serving the children (the builder's)} */
    public EventLoop loop() {
        return core.loop();
    }

    /**
     * Drains the pool: refuses new requests, lets the queued and in-flight ones finish within
     * {@code deadline}, then closes each child's stdin and terminates it after the grace. Requests
     * still unanswered at the deadline fail with a {@link io.dualpipe.worker.PoolShutdownException}.
     * Idempotent.
     *
     * @param deadline how long the queued and in-flight requests may take, {@code >= 0}
     * @return {@link #terminationFuture()}
     * @throws io.dualpipe.core.InvalidArgumentException if {@code deadline} is null or negative
     */
    public LoopFuture<Void> shutdown(Duration deadline) {
        return core.shutdown(deadline);
    }

    /** Stops at once: pending requests fail with a {@link io.dualpipe.worker.PoolShutdownException}, the children are killed. Idempotent, non-blocking. */
    @Override
    public void close() {
        core.close();
    }

    /**
     * Completes once the pool has stopped and every child has been reaped; a fresh future per call,
     * so what a caller does to it stays with that caller.
     *
     * @return a new future
     */
    public LoopFuture<Void> terminationFuture() {
        return core.terminationFuture();
    }
}
