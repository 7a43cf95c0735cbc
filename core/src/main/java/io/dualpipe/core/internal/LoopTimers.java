package io.dualpipe.core.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link SingleThreadEventLoop}'s timers: scheduling and cancelling them, running those due, and
 * how long the loop may block in select before the next one is.
 *
 * <p>Threading: {@link #schedule} and {@link #cancelled} may be called from any thread; off the
 * loop thread they hand their change to the heap to the loop as a task. The heap, and every other
 * method, belong to the loop thread.
 */
final class LoopTimers {
    private final SingleThreadEventLoop loop;
    /** Runs a due timer's task as it runs the loop's queued ones: what it throws is logged. */
    private final TaskQueue tasks;
    /** Orders timers with the same deadline by when they were scheduled. */
    private final AtomicLong sequence = new AtomicLong();
    private final TimerHeap heap = new TimerHeap();

    LoopTimers(SingleThreadEventLoop loop, TaskQueue tasks) {
        this.loop = loop;
        this.tasks = tasks;
    }

    /** {@link io.dualpipe.core.EventLoop#schedule}, argument checks included. */
    TimerTask schedule(Runnable task, long delay, TimeUnit unit) {
        InvalidArgumentException.requireNonNull("task", task);
        InvalidArgumentException.requireNonNull("unit", unit);
        if (delay < 0) {
            throw new InvalidArgumentException("delay < 0: " + delay);
        }
        long deadline = System.nanoTime() + Durations.saturatedNanos(delay, unit);
        TimerTask t = new TimerTask(loop, task, deadline, sequence.getAndIncrement());
        if (loop.inEventLoop()) {
            if (loop.isClosed()) {
                throw loop.closed();
            }
            heap.add(t);
        } else {
            loop.execute(() -> {
                if (loop.isClosed()) {
                    t.cancel(); // the heap was already emptied by shutdown: never leave it pending
                } else if (!t.isDone()) {
                    heap.add(t);
                }
            });
        }
        return t;
    }

    /** {@code t} was cancelled (by any thread): it leaves the heap now, or on the loop's next pass. */
    void cancelled(TimerTask t) {
        if (loop.inEventLoop()) {
            heap.remove(t);
            return;
        }
        try {
            loop.execute(() -> heap.remove(t));
        } catch (LoopClosedException ignored) {
            // the heap is dropped with the loop
        }
    }

    /** Runs every timer whose deadline has passed, earliest first. */
    void runDue() {
        if (heap.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        TimerTask t;
        while ((t = heap.peek()) != null && t.deadlineNanos - now <= 0) {
            heap.poll();
            if (t.claim()) {
                tasks.runSafely(t.task);
            }
        }
    }

    /** -1: no timer pending; otherwise milliseconds until the next one is due, rounded up (0: one is). */
    long timeoutMs() {
        TimerTask next = heap.peek();
        if (next == null) {
            return -1;
        }
        long nanos = next.deadlineNanos - System.nanoTime();
        return nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000;
    }

    /** -1: no timer pending; otherwise nanoseconds until the next one is due (0: one is). */
    long nanosUntilNext() {
        TimerTask next = heap.peek();
        if (next == null) {
            return -1;
        }
        return Math.max(0, next.deadlineNanos - System.nanoTime());
    }

    /** At shutdown: cancels every pending timer, so none is left to a loop that will never run it. */
    void cancelAll() {
        TimerTask t;
        while ((t = heap.poll()) != null) {
            t.cancel();
        }
    }

    /** Timers scheduled and neither run nor cancelled yet. */
    int size() {
        return heap.size();
    }
}
