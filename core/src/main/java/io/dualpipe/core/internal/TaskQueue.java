package io.dualpipe.core.internal;

import java.nio.channels.Selector;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link SingleThreadEventLoop}'s task queue, and the protocol that wakes the loop's selector
 * for a task queued while the loop may be blocked in select.
 *
 * <p>The protocol: {@code awake} is false only while the loop may block. The loop publishes false,
 * then re-reads the queue ({@link #goingToSleep()}); a producer queues its task, then reads
 * {@code awake} ({@link #wakeLoop()}). Each side writes before it reads, on volatile/atomic state,
 * so at least one sees the other: the loop sees the task and polls instead of blocking, or the
 * producer sees "asleep" and wakes the selector. Only the producer that flips false to true calls
 * {@link Selector#wakeup()}, so a burst of tasks costs one wakeup.
 *
 * <p>Threading: {@link #offer}, {@link #remove}, {@link #isEmpty} and {@link #wakeLoop} may be called
 * from any thread; {@link #goingToSleep}, {@link #awake}, {@link #runTasks} and {@link #runSafely}
 * from the loop thread only.
 */
final class TaskQueue {
    // The loop's logger, so that users who configured it keep seeing these messages under its name.
    private static final LazyLogger LOG = new LazyLogger(SingleThreadEventLoop.class);
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();

    private final String loopName;
    private final Selector selector;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** False only while the loop may block in select; a producer that flips it wakes the selector. */
    private final AtomicBoolean awake = new AtomicBoolean(true);

    TaskQueue(String loopName, Selector selector) {
        this.loopName = loopName;
        this.selector = selector;
    }

    void offer(Runnable task) {
        tasks.offer(task);
    }

    /** Takes {@code task} back out; false when it has already been taken (run, or about to). */
    boolean remove(Runnable task) {
        return tasks.remove(task);
    }

    boolean isEmpty() {
        return tasks.isEmpty();
    }

    /** Producer side, after {@link #offer}: wakes the selector if the loop may be blocked in it. */
    void wakeLoop() {
        if (!awake.get() && awake.compareAndSet(false, true)) {
            selector.wakeup();
        }
    }

    /**
     * Loop side, before a blocking select: publishes "asleep", then re-reads the queue. False when a
     * task is queued, so the loop must poll instead of blocking (its producer may have read "awake").
     */
    boolean goingToSleep() {
        awake.set(false);
        return tasks.isEmpty();
    }

    /** Loop side, after select: producers need not wake the selector until the next {@link #goingToSleep}. */
    void awake() {
        awake.lazySet(true);
    }

    /** Runs up to {@code max} queued tasks, in order. */
    void runTasks(int max) {
        for (int i = 0; i < max; i++) {
            Runnable task = tasks.poll();
            if (task == null) {
                return;
            }
            runSafely(task);
        }
    }

    /** Runs {@code task}; what it throws is logged, and the loop goes on. */
    void runSafely(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            FAILURES.threw(LOG.get(), task, t, "event loop '{}': task {} threw", loopName, task);
        }
    }
}
