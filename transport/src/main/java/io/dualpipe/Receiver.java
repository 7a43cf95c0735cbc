package io.dualpipe;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.InvalidArgumentException;

import java.nio.charset.Charset;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The read half of {@link DualPipe}: its blocking reads and its polls of the child's stdout, over
 * the one {@link InputBuffer} they share, each bounded by its caller's deadline. {@link DualPipe}
 * holds the public methods and their contracts and delegates here; the exceptions and their
 * messages are the ones its Javadoc names.
 *
 * <p><b>Threading.</b> Thread-safe. Every call holds one {@link ReentrantLock} while it runs, so
 * reads never interleave and {@code read}, {@code readline} and the polls can be mixed on one
 * buffer. A blocking call waits for that lock with {@code tryLock} up to its own deadline only, so
 * its timeout covers its wait for another thread's read too (a monitor could not bound that wait).
 * The polls have no deadline: they wait for a running read however long it takes, and never for the
 * child. On an event-loop thread a lock another thread holds fails fast with
 * {@link io.dualpipe.core.BlockingOnLoopException}, because its holder may be waiting for that very
 * loop; a free lock is taken there as anywhere, and a wait for bytes that have not arrived is then
 * refused by the {@link io.dualpipe.core.LoopFuture} guard. {@link Waits#lock} holds these rules.
 * Nothing here runs on the loop or calls back.
 *
 * <p><b>Buffers.</b> This object owns the {@link InputBuffer}, and through it the child's stdout
 * and its one outstanding read; it touches the buffer only under the lock. Every array it returns
 * is a fresh copy, the caller's.
 *
 * <p><b>Closing.</b> {@link DualPipe#close()} does not take the lock, so that a read blocked for its
 * timeout cannot hold the close up. Each call checks {@code closed} once it holds the lock instead:
 * a call that waited for another's read while the pipe closed fails rather than read a stream that
 * is being discarded.
 */
final class Receiver {
    private final ReentrantLock lock = new ReentrantLock();
    private final InputBuffer input; // guarded by lock
    private final String label;
    private final BooleanSupplier closed;

    /**
     * @param stdout        the child's stdout, read by nobody else
     * @param label         the pipe, for the messages
     * @param maxLineLength for {@code readline}, already checked with {@code charset}
     * @param charset       the lines' charset
     * @param closed        true once {@code close()} has begun
     */
    Receiver(ByteSource stdout, String label, int maxLineLength, Charset charset, BooleanSupplier closed) {
        this.input = new InputBuffer(stdout, label, maxLineLength, charset);
        this.label = label;
        this.closed = closed;
    }

    /** {@link DualPipe#read}: 1 to {@code size} bytes as soon as any are there; empty at the end. */
    byte[] read(int size, Duration timeout) {
        InvalidArgumentException.requirePositive("size", size);
        Waits.check(timeout);
        long deadline = Waits.deadline(timeout);
        lock(deadline, timeout, "read");
        try {
            requireOpen("read");
            return input.read(size, deadline, timeout);
        } finally {
            lock.unlock();
        }
    }

    /** {@link DualPipe#readline}: the next line without its terminator; null at the end. */
    String readLine(Duration timeout) {
        Waits.check(timeout);
        long deadline = Waits.deadline(timeout);
        lock(deadline, timeout, "readline");
        try {
            requireOpen("readline");
            return input.readLine(deadline, timeout);
        } finally {
            lock.unlock();
        }
    }

    /** {@link DualPipe#poll}: what has arrived, up to {@code maxBytes}; never waits for the child. */
    byte[] poll(int maxBytes) {
        InvalidArgumentException.requirePositive("maxBytes", maxBytes);
        lock(0, null, "poll");
        try {
            requireOpen("poll");
            return input.poll(maxBytes);
        } finally {
            lock.unlock();
        }
    }

    /** {@link DualPipe#pollLine}: a complete line that has arrived, else null; never waits for the child. */
    String pollLine() {
        lock(0, null, "pollLine");
        try {
            requireOpen("pollLine");
            return input.pollLine();
        } finally {
            lock.unlock();
        }
    }

    /** {@link DualPipe#isEndOfStream}: the output has ended and all of it was handed out. */
    boolean atEnd() {
        lock(0, null, "isEndOfStream");
        try {
            requireOpen("isEndOfStream");
            return input.atEnd();
        } finally {
            lock.unlock();
        }
    }

    /** {@link DualPipe#readAll(int, Duration)}: the rest of the output, at most {@code maxBytes}. */
    byte[] readAll(int maxBytes, Duration timeout) {
        InvalidArgumentException.requirePositive("maxBytes", maxBytes);
        Waits.check(timeout);
        long deadline = Waits.deadline(timeout);
        lock(deadline, timeout, "readAll");
        try {
            requireOpen("readAll");
            return input.readAll(maxBytes, deadline, timeout);
        } finally {
            lock.unlock();
        }
    }

    /** Reads are serialised; a caller's timeout (null for the polls: none) covers its wait for another's. */
    private void lock(long deadline, Duration timeout, String call) {
        Waits.lock(lock, deadline, timeout, call, label);
    }

    private void requireOpen(String call) {
        if (closed.getAsBoolean()) {
            throw new ChannelClosedException(label + ": " + call + " after close()");
        }
    }

    /**
     * Reads and drops everything left in {@code source}, for {@code close()}: a child blocked writing
     * output nobody reads could not exit. On stdout these reads are queued behind any read the buffer
     * has outstanding (reads complete in the order issued).
     */
    static void discard(ByteSource source) {
        source.read(InputBuffer.CHUNK).whenComplete((bytes, e) -> {
            if (e == null && bytes.length > 0) {
                discard(source);
            }
        });
    }
}
