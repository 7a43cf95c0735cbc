package io.dualpipe.core;

import io.dualpipe.core.internal.LoopThread;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link CompletableFuture} every DualPipe operation returns. It behaves as its parent class,
 * with one guard: <b>a thread of an {@link EventLoop} that blocks on an incomplete LoopFuture
 * ({@code get}, {@code join}) gets a {@link BlockingOnLoopException} at once</b>, because the loop
 * is the thread that would complete it. Stages derived from it ({@code thenApply} ...) are LoopFutures
 * too, so the guard follows the chain.
 *
 * <p>Which thread runs dependent stages: the one that completes the future, which for I/O is the
 * loop thread (the caller's thread for a write the kernel took at once). Keep such stages short and
 * non-blocking, or use the {@code *Async} variants with an executor of your own.
 */
public class LoopFuture<T> extends CompletableFuture<T> {

    @Override
    public <U> LoopFuture<U> newIncompleteFuture() {
        return new LoopFuture<>();
    }

    /**
     * {@return a future already completed with {@code value}}
     *
     * @param <T>   the value's type
     * @param value the value, may be null
     */
    public static <T> LoopFuture<T> completed(T value) {
        LoopFuture<T> f = new LoopFuture<>();
        f.complete(value);
        return f;
    }

    /**
     * {@return a future already failed with {@code cause}}
     *
     * @param <T>   the value type the future would have had
     * @param cause the failure
     */
    public static <T> LoopFuture<T> failed(Throwable cause) {
        LoopFuture<T> f = new LoopFuture<>();
        f.completeExceptionally(cause);
        return f;
    }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        guard("get()");
        spinBriefly(SPIN_NANOS);
        return super.get();
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        guard("get(timeout)");
        spinBriefly(Math.min(SPIN_NANOS, unit.toNanos(timeout)));
        return super.get(timeout, unit);
    }

    @Override
    public T join() {
        guard("join()");
        spinBriefly(SPIN_NANOS);
        return super.join();
    }

    /**
     * A reply from a child usually comes within microseconds; parking the waiter and having the loop
     * wake it costs more than that on a VM (futex plus an idle CPU's wake-up). So a blocked caller
     * first spins for at most {@value #SPIN_NANOS} ns, and only where another CPU can make progress
     * meanwhile (never on one CPU, e.g. under {@code taskset -c 0}).
     */
    private void spinBriefly(long nanos) {
        if (isDone() || !MULTI_CPU || nanos <= 0) {
            return;
        }
        long deadline = System.nanoTime() + nanos;
        while (!isDone() && System.nanoTime() - deadline < 0) {
            Thread.onSpinWait();
        }
    }

    private static final long SPIN_NANOS = 20_000;
    private static final boolean MULTI_CPU = Runtime.getRuntime().availableProcessors() > 1;

    private void guard(String call) {
        if (!isDone() && Thread.currentThread() instanceof LoopThread) {
            throw new BlockingOnLoopException(call + " on an incomplete future from event-loop thread '"
                    + Thread.currentThread().getName() + "' would deadlock: the loop completes it. "
                    + "Chain with thenApply/thenCompose instead of blocking.");
        }
    }
}
