package io.dualpipe.worker;

import io.dualpipe.core.InvalidArgumentException;

import java.time.Duration;

/**
 * How one {@link WorkerPool} task is run: a timeout, and whether it may be run again on another
 * worker when its worker dies or times out. Immutable; each method returns a new value.
 *
 * <pre>{@code
 * pool.submit(data, TaskOptions.idempotent().timeout(Duration.ofSeconds(5)));
 * }</pre>
 *
 * <p>Retry only what is safe to run twice: a worker that died or was killed for a timeout may have
 * done part or all of the work before it went.
 */
public final class TaskOptions {
    private static final TaskOptions DEFAULTS = new TaskOptions(null, 0);

    private final Duration timeout; // null: the pool's taskTimeout
    private final int retries;

    private TaskOptions(Duration timeout, int retries) {
        this.timeout = timeout;
        this.retries = retries;
    }

    /** {@return the pool's timeout, no retry: what {@link WorkerPool#submit(Object)} uses} */
    public static TaskOptions defaults() {
        return DEFAULTS;
    }

    /** {@return a task safe to run again: retried once on another worker if its worker dies or times out} */
    public static TaskOptions idempotent() {
        return new TaskOptions(null, 1);
    }

    /**
     * Fails the task with a {@link TaskTimeoutException} if its worker holds it longer than
     * {@code timeout} (from the moment it was sent), and kills that worker, which is replaced; its
     * other tasks fail with a {@link WorkerExitedException} (or are retried if idempotent).
     *
     * @param timeout the timeout, positive
     * @return new options with that timeout
     */
    public TaskOptions timeout(Duration timeout) {
        InvalidArgumentException.requireNonNull("timeout", timeout);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new InvalidArgumentException("timeout <= 0: " + timeout);
        }
        return new TaskOptions(timeout, retries);
    }

    /**
     * Runs the task at most {@code n} more times after its worker died or timed out (0: never).
     *
     * @param n the retries, {@code >= 0}
     * @return new options with that count
     */
    public TaskOptions retries(int n) {
        if (n < 0) {
            throw new InvalidArgumentException("retries < 0: " + n);
        }
        return new TaskOptions(timeout, n);
    }

    /** {@return the task's own timeout, or null for the pool's} */
    public Duration timeout() {
        return timeout;
    }

    /** {@return how many more times the task may run after its worker died or timed out} */
    public int retries() {
        return retries;
    }

    @Override
    public String toString() {
        return "TaskOptions[timeout=" + timeout + ", retries=" + retries + "]";
    }
}
