package io.dualpipe.pool;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.pool.internal.PoolCore;
import io.dualpipe.process.ChildProcessBuilder;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

/**
 * Configures a {@link ChildPool}. Not thread-safe: configure it on one thread, then {@link #start()}.
 * The {@link ChildProcessBuilder} is read by the pool for every child it starts, on the loop thread:
 * do not change it once the pool runs.
 *
 * @param <Q> what a request is
 * @param <R> what a reply is
 */
public final class ChildPoolBuilder<Q, R> {
    final ChildProcessBuilder child;
    final Exchange<Q, R> exchange;
    int children = Math.max(2, Runtime.getRuntime().availableProcessors());
    int maxInFlightPerChild = 1;
    int maxQueued = 1024;
    Duration requestTimeout = Duration.ofSeconds(30);
    Duration queueTimeout = Duration.ofSeconds(30);
    Duration backoffInitial = Duration.ofMillis(50);
    Duration backoffMax = Duration.ofSeconds(5);
    int breakerCrashes = 5;
    Duration breakerWindow = Duration.ofSeconds(10);
    Duration breakerOpenFor = Duration.ofSeconds(5);
    long recycleAfterRequests;
    Duration recycleAfterAge;
    Q warmUpRequest;
    Predicate<? super R> warmUpCheck;
    Duration warmUpTimeout;
    Duration stopGrace = Duration.ofSeconds(2);
    int stderrTailBytes = 64 * 1024;
    Executor executor;

    ChildPoolBuilder(ChildProcessBuilder child, Exchange<Q, R> exchange) {
        this.child = InvalidArgumentException.requireNonNull("child builder", child);
        this.exchange = InvalidArgumentException.requireNonNull("exchange", exchange);
    }

    /**
     * How many children run. Default: the number of processors, at least 2.
     *
     * @param n how many, {@code > 0}
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> children(int n) {
        this.children = InvalidArgumentException.requirePositive("children", n);
        return this;
    }

    /**
     * Requests one child holds at once. Default 1, which a line exchange needs unless its child
     * answers every line (see {@link Exchange#lines()}).
     *
     * @param n how many, {@code > 0}
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> maxInFlightPerChild(int n) {
        this.maxInFlightPerChild = InvalidArgumentException.requirePositive("maxInFlightPerChild", n);
        return this;
    }

    /**
     * Requests that may wait for a child; past that {@code submit} fails fast and {@code submitWhenRoom} waits. Default 1024.
     *
     * @param n how many, {@code > 0}
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> maxQueued(int n) {
        this.maxQueued = InvalidArgumentException.requirePositive("maxQueued", n);
        return this;
    }

    /**
     * How long a child may hold a request, from the moment it was sent: past that the request fails
     * with a {@link PoolRequestTimeoutException}, the child is killed and replaced, and its other
     * requests fail with a {@link io.dualpipe.process.ChildExitedException}. Default 30 s.
     *
     * @param d the timeout, positive
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> requestTimeout(Duration d) {
        this.requestTimeout = positive("requestTimeout", d);
        return this;
    }

    /**
     * How long a request may wait in the queue for a child before it fails ({@link FailureCause#QUEUE_TIMEOUT}). Default 30 s.
     *
     * @param d the timeout, positive
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> queueTimeout(Duration d) {
        this.queueTimeout = positive("queueTimeout", d);
        return this;
    }

    /**
     * Delay before restarting after a crash: {@code initial}, doubling per consecutive crash, up to {@code max}. Default 50 ms .. 5 s.
     *
     * @param initial the first delay, positive
     * @param max     the longest delay, {@code >= initial}
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> backoff(Duration initial, Duration max) {
        this.backoffInitial = positive("backoff initial", initial);
        this.backoffMax = positive("backoff max", max);
        if (max.compareTo(initial) < 0) {
            throw new InvalidArgumentException("backoff max < initial: " + max + " < " + initial);
        }
        return this;
    }

    /**
     * The crash-loop breaker: {@code crashes} crashes within {@code window} open it; while open no
     * child starts and requests fail at once with a {@link BreakerOpenException}; after
     * {@code openFor} one probe child starts, whose first answer closes it. Default 5 in 10 s, open 5 s.
     *
     * @param crashes how many crashes open it, {@code > 0}
     * @param window  the window they are counted in, positive
     * @param openFor how long it stays open before a probe, positive
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> breaker(int crashes, Duration window, Duration openFor) {
        this.breakerCrashes = InvalidArgumentException.requirePositive("breaker crashes", crashes);
        this.breakerWindow = positive("breaker window", window);
        this.breakerOpenFor = positive("breaker openFor", openFor);
        return this;
    }

    /**
     * Retires a child after it was given {@code n} requests (0: never, the default); it finishes them first.
     *
     * @param n the request count, {@code >= 0}; 0 for never
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> recycleAfterRequests(long n) {
        if (n < 0) {
            throw new InvalidArgumentException("recycleAfterRequests < 0: " + n);
        }
        this.recycleAfterRequests = n;
        return this;
    }

    /**
     * Retires a child once it is {@code age} old, after its replacement is ready. Default: never.
     *
     * @param age the age, positive
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> recycleAfterAge(Duration age) {
        this.recycleAfterAge = positive("recycleAfterAge", age);
        return this;
    }

    /**
     * A request every new child must answer, with a reply {@code check} accepts, within 30 s, before
     * it takes work; a child that fails it counts as crashed. Also the way to keep a slow start
     * (an interpreter loading its modules) out of the first request's {@code requestTimeout}.
     *
     * @param request the warm-up request, not null
     * @param check   accepts a good reply, not null
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> warmUp(Q request, Predicate<? super R> check) {
        return warmUp(request, check, Duration.ofSeconds(30));
    }

    /**
     * As {@link #warmUp(Object, Predicate)}, within {@code timeout}.
     *
     * @param request the warm-up request, not null
     * @param check   accepts a good reply, not null
     * @param timeout how long the child may take to answer it, positive
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> warmUp(Q request, Predicate<? super R> check, Duration timeout) {
        this.warmUpRequest = InvalidArgumentException.requireNonNull("warm-up request", request);
        this.warmUpCheck = InvalidArgumentException.requireNonNull("warm-up check", check);
        this.warmUpTimeout = positive("warm-up timeout", timeout);
        return this;
    }

    /**
     * How long a child stopped by a drain or recycle gets after its stdin closed before SIGTERM, and again before SIGKILL. Default 2 s.
     *
     * @param d the grace, positive
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> stopGrace(Duration d) {
        this.stopGrace = positive("stopGrace", d);
        return this;
    }

    /**
     * Bytes of each child's stderr kept for failure messages (stderr is always read when it is a pipe). Default 64 KiB.
     *
     * @param bytes how many, {@code > 0}
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> stderrTail(int bytes) {
        this.stderrTailBytes = InvalidArgumentException.requirePositive("stderrTail", bytes);
        return this;
    }

    /**
     * Completes the pool's futures on {@code executor} (a Vert.x context, a virtual-thread executor)
     * instead of the loop thread, so code chained on them may block or use its own thread's state.
     * An executor that rejects a completion gets it run on the loop thread instead. Default: the loop thread.
     *
     * @param executor the executor, not null
     * @return this builder
     */
    public ChildPoolBuilder<Q, R> completeOn(Executor executor) {
        this.executor = InvalidArgumentException.requireNonNull("executor", executor);
        return this;
    }

    /**
     * Starts the children, on the calling thread.
     *
     * @return the running pool
     * @throws io.dualpipe.process.SpawnException when the first child cannot start (the others are not tried)
     */
    public ChildPool<Q, R> start() {
        return new ChildPool<>(new PoolCore<>(new PoolCore.Settings<>(child, exchange, children, maxInFlightPerChild,
                maxQueued, requestTimeout, queueTimeout, backoffInitial, backoffMax, breakerCrashes, breakerWindow,
                breakerOpenFor, recycleAfterRequests, recycleAfterAge, warmUpRequest, warmUpCheck, warmUpTimeout, stopGrace,
                stderrTailBytes, executor)));
    }

    private static Duration positive(String name, Duration d) {
        InvalidArgumentException.requireNonNull(name, d);
        if (d.isNegative() || d.isZero()) {
            throw new InvalidArgumentException(name + " <= 0: " + d);
        }
        return d;
    }
}
