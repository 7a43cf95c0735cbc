package io.dualpipe.fifo.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.fifo.FifoOpenTimeoutException;
import io.dualpipe.fifo.FifoWriterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.channels.SelectionKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One pending open of a FIFO's write side.
 *
 * <p>A blocking open(O_WRONLY) waits until a reader opens the FIFO, and nothing can select on "a
 * reader appeared". With O_NONBLOCK the open fails at once with ENXIO instead, so this retries on a
 * loop timer with exponential backoff until it succeeds, the timeout passes, the future is cancelled,
 * or the loop closes. Every attempt is one non-blocking syscall: the loop is never blocked, and
 * between attempts nothing runs at all.
 *
 * <p>Threading: the first attempt runs on the caller's thread (so the common case, a reader already
 * there, completes without a hop); later ones on the loop thread, one at a time, each scheduled by
 * the one before, which orders their accesses to the plain fields. {@link #cleanUp()} may run on any
 * thread and touches only volatile fields.
 */
public final class WriterOpen {
    private static final Logger LOG = LoggerFactory.getLogger(WriterOpen.class);

    private final Path path;
    private final EventLoop loop;
    private final FifoWriterOptions options;
    private final LoopFuture<ByteSink> future = new LoopFuture<>();
    private final Duration timeout; // null: none
    private final long deadlineNanos;
    private final long maxBackoffNanos;
    private long backoffNanos;
    private int attempts;
    private volatile Timeout retry;
    private volatile Runnable removeCloseHook;

    private WriterOpen(Path path, EventLoop loop, FifoWriterOptions options) {
        this.path = path;
        this.loop = loop;
        this.options = options;
        this.timeout = options.timeout().orElse(null);
        this.deadlineNanos = timeout == null ? 0 : System.nanoTime() + Durations.saturatedNanos(timeout);
        this.backoffNanos = Durations.saturatedNanos(options.initialBackoff());
        this.maxBackoffNanos = Durations.saturatedNanos(options.maxBackoff());
    }

    /**
     * Starts opening {@code path} for writing. The future completes with a sink once a reader has the
     * FIFO open; cancelling it stops the attempts.
     */
    public static LoopFuture<ByteSink> start(Path path, EventLoop loop, FifoWriterOptions options) {
        WriterOpen op = new WriterOpen(path, loop, options);
        op.future.whenComplete((sink, error) -> op.cleanUp());
        try {
            // Up front, because a Unix socket at the path also fails open(2) with ENXIO, which
            // would otherwise be retried as "no reader yet" until the timeout.
            FileTypes.requireFifo(path);
            op.attempt();
        } catch (RuntimeException e) {
            op.future.completeExceptionally(e);
        }
        return op.future;
    }

    private void attempt() {
        if (future.isDone()) {
            return; // cancelled, or failed by the loop closing
        }
        attempts++;
        int fd = FifoNative.open(path, FifoNative.WRITE_FLAGS);
        if (fd >= 0) {
            connected(fd);
            return;
        }
        int errno = -fd;
        if (errno != FifoNative.ENXIO) {
            future.completeExceptionally(FifoNative.openFailure(path, "writing", errno));
            return;
        }
        long delay = backoffNanos;
        if (timeout != null) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                LOG.debug("fifo {}: no reader after {} attempts, giving up", path, attempts);
                future.completeExceptionally(new FifoOpenTimeoutException(path, timeout, attempts));
                return;
            }
            // The last wait ends at the deadline, so the timeout is neither early nor a backoff late.
            delay = Math.min(delay, left);
        }
        backoffNanos = Math.min(backoffNanos * 2, maxBackoffNanos);
        scheduleRetry(delay);
    }

    private void connected(int fd) {
        try {
            FileTypes.requireFifoFd(path, fd);
        } catch (RuntimeException e) {
            Native.closeQuietly(fd); // before a single byte went into whatever replaced the FIFO
            future.completeExceptionally(e);
            return;
        }
        ByteSink sink;
        try {
            sink = Streams.sink(loop, new FdChannel(fd, SelectionKey.OP_WRITE), "fifo writer " + FifoNative.quote(path),
                    options.lowWaterMark(), options.highWaterMark());
        } catch (RuntimeException e) {
            future.completeExceptionally(e);
            return;
        }
        if (!future.complete(sink)) {
            sink.close(); // cancelled while we were opening
            return;
        }
        LOG.debug("fifo {}: writer open (fd {}) after {} attempt(s)", path, fd, attempts);
    }

    private void scheduleRetry(long delayNanos) {
        if (removeCloseHook == null && loop instanceof SingleThreadEventLoop) {
            // The loop drops pending timers when it closes; without this hook the future would
            // never complete. Registered before the timer, so a close racing with us either runs
            // the hook or makes schedule() throw.
            Runnable remover = SingleThreadEventLoop.of(loop).onClose(future::completeExceptionally);
            removeCloseHook = remover;
            if (future.isDone()) {
                remover.run();
            }
        }
        try {
            retry = loop.schedule(this::attempt, delayNanos, TimeUnit.NANOSECONDS);
        } catch (LoopClosedException e) {
            future.completeExceptionally(e);
        }
    }

    private void cleanUp() {
        Timeout t = retry;
        if (t != null) {
            t.cancel();
        }
        Runnable remover = removeCloseHook;
        if (remover != null) {
            remover.run();
        }
    }
}
