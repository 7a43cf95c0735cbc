package io.dualpipe;

import io.dualpipe.core.BlockingOnLoopException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.LoopThread;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/** Blocking on library futures with a deadline, with the facade's exceptions. Stateless. */
final class Waits {
    private Waits() {
    }

    /** Checks a caller's timeout: not null, not negative (zero means "only what is here already"). */
    static Duration check(Duration timeout) {
        InvalidArgumentException.requireNonNull("timeout", timeout);
        if (timeout.isNegative()) {
            throw new InvalidArgumentException("timeout < 0: " + timeout);
        }
        return timeout;
    }

    /**
     * Fails fast on an event-loop thread, before a call that would wait for that loop has changed
     * anything: the guard of {@link io.dualpipe.core.LoopFuture#get} comes too late for a call with
     * side effects (close() had already killed the child when its wait was refused).
     */
    static void requireNotOnLoop(String call) {
        if (Thread.currentThread() instanceof LoopThread) {
            throw new BlockingOnLoopException(call + " on event-loop thread '" + Thread.currentThread().getName()
                    + "' would deadlock: the loop is what completes the wait. Call it from another thread.");
        }
    }

    /**
     * Takes {@code lock}, whose holder may be waiting for a loop, by {@code deadline}; without limit
     * when {@code timeout} is null. A free lock is taken at once, even by an interrupted thread (a
     * read of bytes already buffered still succeeds). On a loop thread a held lock fails fast: its
     * holder may be waiting for this very loop, which would stall until the holder's timeout.
     *
     * @param call  the caller's method, for the messages
     * @param label the pipe, for the messages
     */
    static void lock(ReentrantLock lock, long deadline, Duration timeout, String call, String label) {
        if (lock.tryLock()) {
            return; // the common case builds no message
        }
        String holder = call + ": another thread's read of " + label;
        if (Thread.currentThread() instanceof LoopThread) {
            throw new BlockingOnLoopException(holder + " is in progress; waiting for it on event-loop thread '"
                    + Thread.currentThread().getName() + "' could deadlock, as it may need this loop");
        }
        if (timeout == null) {
            lock.lock();
            return;
        }
        try {
            if (!lock.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new WaitTimeoutException(holder + " still ran after " + timeout, timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WaitInterruptedException("interrupted while waiting: " + holder + " ran", e);
        }
    }

    /** The {@link System#nanoTime()} at which {@code timeout} from now has passed, saturating. */
    static long deadline(Duration timeout) {
        return System.nanoTime() + Durations.saturatedNanos(timeout);
    }

    /**
     * Waits for {@code f} until {@code deadline}. A failure is rethrown as the library's own typed
     * exception (unwrapped from ExecutionException).
     *
     * @throws WaitTimeoutException with {@code message} when the deadline passes first
     * @throws WaitInterruptedException when interrupted (the interrupt status is set again)
     */
    static <T> T await(CompletableFuture<T> f, long deadline, Duration timeout, Supplier<String> message) {
        try {
            return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new WaitTimeoutException(message.get(), timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WaitInterruptedException("interrupted while waiting: " + message.get(), e);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    /** The library's failures are typed and unchecked: throw them as they are; wrap anything else. */
    static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof RuntimeException) {
            throw (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        throw new DualPipeException("unexpected failure: " + cause, cause);
    }
}
