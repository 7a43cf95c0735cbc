package io.dualpipe.fifo;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.FdStream;

import java.time.Duration;
import java.util.Optional;

/**
 * How {@link Fifo#openWriter(java.nio.file.Path, io.dualpipe.core.EventLoop, FifoWriterOptions)}
 * waits for a reader and serves the FIFO. Immutable: every setter returns a new instance, so one
 * value may be shared between threads and reused.
 */
public final class FifoWriterOptions {
    private static final FifoWriterOptions DEFAULTS = new FifoWriterOptions(null, Duration.ofMillis(1), Duration.ofMillis(100),
            FdStream.DEFAULT_LOW_WATER, FdStream.DEFAULT_HIGH_WATER);

    private final Duration timeout; // null: wait until cancelled or the loop closes
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final int lowWaterMark;
    private final int highWaterMark;

    private FifoWriterOptions(Duration timeout, Duration initialBackoff, Duration maxBackoff, int lowWaterMark, int highWaterMark) {
        this.timeout = timeout;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.lowWaterMark = lowWaterMark;
        this.highWaterMark = highWaterMark;
    }

    /** {@return the defaults: no timeout; retries 1 ms apart at first, doubling to 100 ms; water marks 32 KiB / 64 KiB} */
    public static FifoWriterOptions defaults() {
        return DEFAULTS;
    }

    /**
     * How long to wait for a reader before failing with a {@link FifoOpenTimeoutException}.
     * {@link Duration#ZERO} tries once. Default: no timeout.
     *
     * @param timeout the wait, {@code >= 0}
     * @return new options with that timeout
     * @throws InvalidArgumentException if {@code timeout} is null or negative
     */
    public FifoWriterOptions timeout(Duration timeout) {
        InvalidArgumentException.requireNonNull("timeout", timeout);
        if (timeout.isNegative()) {
            throw new InvalidArgumentException("timeout < 0: " + timeout);
        }
        return new FifoWriterOptions(timeout, initialBackoff, maxBackoff, lowWaterMark, highWaterMark);
    }

    /**
     * Waits for a reader until the future is cancelled or the loop closes (the default).
     *
     * @return new options without a timeout
     */
    public FifoWriterOptions noTimeout() {
        return new FifoWriterOptions(null, initialBackoff, maxBackoff, lowWaterMark, highWaterMark);
    }

    /** {@return the timeout, if any} */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    /**
     * The pause between open attempts while no reader exists: {@code initial} after the first
     * failure, doubling up to {@code max}. A reader that appears is thus noticed within
     * {@code max}, at a cost of at most one open(2) per {@code max} while none does.
     *
     * @param initial the first pause, positive
     * @param max     the longest pause, {@code >= initial}
     * @return new options with that backoff
     * @throws InvalidArgumentException if {@code initial <= 0} or {@code max < initial}
     */
    public FifoWriterOptions backoff(Duration initial, Duration max) {
        InvalidArgumentException.requireNonNull("initial", initial);
        InvalidArgumentException.requireNonNull("max", max);
        if (initial.isNegative() || initial.isZero()) {
            throw new InvalidArgumentException("initial backoff <= 0: " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new InvalidArgumentException("max backoff " + max + " < initial backoff " + initial);
        }
        return new FifoWriterOptions(timeout, initial, max, lowWaterMark, highWaterMark);
    }

    /** {@return the pause after the first failed open} */
    public Duration initialBackoff() {
        return initialBackoff;
    }

    /** {@return the longest pause between open attempts} */
    public Duration maxBackoff() {
        return maxBackoff;
    }

    /**
     * The sink's water marks (see {@link io.dualpipe.core.ByteSink}): it reports not writable once
     * more than {@code high} bytes are queued, and writable again at {@code low}.
     *
     * @param low  the low water mark, 0 to {@code high}
     * @param high the high water mark, {@code > 0}
     * @return new options with those marks
     * @throws InvalidArgumentException if {@code high <= 0} or {@code low} is outside {@code [0, high]}
     */
    public FifoWriterOptions waterMarks(int low, int high) {
        InvalidArgumentException.requirePositive("highWaterMark", high);
        if (low < 0 || low > high) {
            throw new InvalidArgumentException("lowWaterMark must be in [0, highWaterMark=" + high + "]: " + low);
        }
        return new FifoWriterOptions(timeout, initialBackoff, maxBackoff, low, high);
    }

    /** {@return the sink's low water mark, in bytes} */
    public int lowWaterMark() {
        return lowWaterMark;
    }

    /** {@return the sink's high water mark, in bytes} */
    public int highWaterMark() {
        return highWaterMark;
    }

    @Override
    public String toString() {
        return "FifoWriterOptions[timeout=" + (timeout == null ? "none" : timeout) + ", backoff=" + initialBackoff
                + ".." + maxBackoff + ", waterMarks=" + lowWaterMark + "/" + highWaterMark + "]";
    }
}
