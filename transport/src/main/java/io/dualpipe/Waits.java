package io.dualpipe;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.Durations;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
