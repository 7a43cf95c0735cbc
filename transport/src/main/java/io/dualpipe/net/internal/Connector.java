package io.dualpipe.net.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.core.message.Peer;
import io.dualpipe.net.ConnectTimeoutException;
import io.dualpipe.net.ConnectionRefusedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One connect, with retries, on the loop, never blocking it. A Unix connect (jnr-unixsocket's, on
 * our own non-blocking fd: see {@link Sockets#connect}) finishes at once: connected, refused, or
 * EAGAIN when the server's backlog is full on Linux, which is polled every few milliseconds until
 * the connect timeout (macOS refuses instead when the backlog is full, which is retried like any
 * refusal). A TCP connect under way (EINPROGRESS) is watched for
 * OP_WRITE and judged by SO_ERROR; its selection key is then handed over to the stream that serves
 * the connection, by registering the same channel again.
 *
 * <p>Between attempts, and while a Unix connect polls a full backlog, only a timer stands for the
 * connect, and the loop drops its timers when it closes; so a close hook on the loop fails the connect
 * with the {@link LoopClosedException} then, and every {@code schedule} that the closing loop refuses
 * fails it too. Once the result is done (connected, failed, cancelled) nothing more is tried.
 *
 * <p>Loop-confined, apart from {@link #start} and {@link #cancel()}, which hop onto the loop.
 */
final class Connector implements IoHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Connector.class);
    private static final long BACKLOG_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** A connected socket and who is at the other end. */
    record Connected(FdChannel channel, Peer peer) {
    }

    private final EventLoop loop;
    private final SocketAddress address;
    private final String text;
    private final boolean unix;
    private final int attempts;
    private final long delayNanos;
    private final long timeoutNanos;
    private final Duration timeout;
    private final LoopFuture<Connected> result = new LoopFuture<>();

    private int attempt;
    private long attemptStarted;
    private FdChannel inProgress;
    private SelectionKey key;
    private Timeout timer;  // the connect timeout, the retry delay or the next backlog poll: one at a time

    private Connector(EventLoop loop, SocketAddress address, int attempts, Duration delay, Duration timeout) {
        this.loop = loop;
        this.address = address;
        this.text = Sockets.describe(address);
        this.unix = address instanceof UnixDomainSocketAddress;
        this.attempts = attempts;
        this.delayNanos = Durations.saturatedNanos(delay);
        this.timeoutNanos = Durations.saturatedNanos(timeout);
        this.timeout = timeout;
    }

    /** Starts connecting on the loop (always as a task: the future never completes inside this call). */
    static Connector start(EventLoop loop, SocketAddress address, int attempts, Duration delay, Duration timeout) {
        Connector c = new Connector(loop, address, attempts, delay, timeout);
        if (loop instanceof SingleThreadEventLoop l) {
            // Added before the first task: a close racing with us either runs the hook, or refuses
            // the task or a later schedule(), and each of those fails the result.
            Runnable remove = l.onClose(c::fail);
            c.result.whenComplete((v, e) -> remove.run());
        }
        try {
            loop.execute(c::attempt);
        } catch (LoopClosedException e) {
            c.result.completeExceptionally(e);
        }
        return c;
    }

    LoopFuture<Connected> result() {
        return result;
    }

    /** Stops retrying and abandons a connect in progress. */
    void cancel() {
        try {
            loop.execute(() -> {
                abandon();
                result.cancel(false);
            });
        } catch (LoopClosedException ignored) {
            result.cancel(false);
        }
    }

    private void attempt() {
        if (result.isDone()) {
            return;
        }
        attempt++;
        attemptStarted = System.nanoTime();
        tryConnect();
    }

    private void tryConnect() {
        if (result.isDone()) {
            return; // cancelled or failed by a closing loop while this poll was pending
        }
        int fd;
        try {
            fd = Sockets.open(address);
        } catch (NativeIoException e) {
            fail(e); // EMFILE and the like: retrying soon will not help the caller
            return;
        }
        int errno = Sockets.connect(fd, address);
        if (errno == 0) {
            connected(new FdChannel(fd, SelectionKey.OP_READ | SelectionKey.OP_WRITE));
            return;
        }
        if (errno == Sockets.EINPROGRESS) {
            inProgress = new FdChannel(fd, SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            loop.register(inProgress, SelectionKey.OP_WRITE, this).whenComplete((k, e) -> {
                if (e != null) {
                    abandon();
                    fail(e);
                } else {
                    key = k;
                }
            });
            if (!result.isDone()) {
                schedule(this::timedOut, timeoutNanos);
            }
            return;
        }
        Native.closeQuietly(fd);
        if (errno == Sockets.EAGAIN && unix) {
            // The server's backlog is full: it is alive but slow. Poll, within the connect timeout.
            if (System.nanoTime() - attemptStarted < timeoutNanos) {
                schedule(this::tryConnect, BACKLOG_POLL_NANOS);
            } else {
                retryOr(new ConnectTimeoutException("connect to " + text + ": the server's accept backlog stayed full for "
                        + timeout));
            }
            return;
        }
        if (unix && errno == Sockets.ECONNREFUSED) {
            // Linux refuses a connect to a regular file, a directory or a FIFO like one nobody listens
            // on; no server can ever listen there (a server will not replace it), so retrying is futile.
            String kind = UnixSocketFile.kindIfNotSocket(((UnixDomainSocketAddress) address).getPath());
            if (kind != null) {
                fail(new ConnectionRefusedException(text, "connect to " + text + ": " + ((UnixDomainSocketAddress) address).getPath()
                        + " is " + kind + ", not a socket", errno, Native.errnoName(errno), Native.LIBC.strerror(errno)));
                return;
            }
        }
        retryOr(errorFor(errno), retryable(errno));
    }

    @Override
    public void ready(int readyOps) {
        FdChannel ch = inProgress;
        if (ch == null) {
            return;
        }
        if (timer != null) {
            timer.cancel();
        }
        int err = Sockets.pendingError(ch.getFD());
        if (err == 0) {
            key.interestOps(0); // the stream that takes the channel over sets its own interest
            inProgress = null;
            connected(ch);
            return;
        }
        abandon();
        retryOr(errorFor(err), retryable(err));
    }

    private void timedOut() {
        if (inProgress == null) {
            return;
        }
        abandon();
        retryOr(new ConnectTimeoutException("connect to " + text + ": no answer within " + timeout));
    }

    @Override
    public void loopClosed(LoopClosedException cause) {
        inProgress = null;
        fail(cause);
    }

    /** Schedules {@code task} as the one pending timer; a closing loop's refusal fails the connect. */
    private void schedule(Runnable task, long nanos) {
        try {
            timer = loop.schedule(task, nanos, TimeUnit.NANOSECONDS);
        } catch (LoopClosedException e) {
            abandon();
            fail(e);
        }
    }

    private void abandon() {
        FdChannel ch = inProgress;
        inProgress = null;
        if (timer != null) {
            timer.cancel();
        }
        if (ch != null) {
            if (key != null) {
                key.cancel();
            }
            try {
                ch.close();
            } catch (java.io.IOException e) {
                LOG.debug("{}: close failed", text, e);
            }
        }
        key = null;
    }

    private void connected(FdChannel ch) {
        Peer peer;
        try {
            if (unix) {
                peer = UnixSockets.peerCredentials(ch.getFD(), text);
            } else {
                TcpSockets.setNoDelay(ch.getFD());
                peer = Peer.unknown(text);
            }
        } catch (NativeIoException e) {
            try {
                ch.close();
            } catch (java.io.IOException ignored) {
                // the fd is released either way
            }
            retryOr(e, true);
            return;
        }
        if (!result.complete(new Connected(ch, peer))) {
            try {
                ch.close(); // cancelled meanwhile
            } catch (java.io.IOException ignored) {
                // the fd is released either way
            }
        }
    }

    private void retryOr(DualPipeException error) {
        retryOr(error, true);
    }

    private void retryOr(DualPipeException error, boolean retryable) {
        if (retryable && attempt < attempts && !result.isDone()) {
            LOG.debug("{}: attempt {} of {} failed ({}); retrying in {} ms", text, attempt, attempts, error.getMessage(),
                    TimeUnit.NANOSECONDS.toMillis(delayNanos));
            schedule(this::attempt, delayNanos);
            return;
        }
        fail(error);
    }

    private void fail(Throwable error) {
        result.completeExceptionally(error); // nothing of ours is pending then, or the closing loop drops it (timer, key)
    }

    private static boolean retryable(int errno) {
        return errno == Sockets.ECONNREFUSED || errno == Sockets.ENOENT || errno == Sockets.ECONNRESET
                || errno == Sockets.ETIMEDOUT || errno == Sockets.EHOSTUNREACH || errno == Sockets.ENETUNREACH;
    }

    private NativeIoException errorFor(int errno) {
        String what = "connect to " + text + (attempt > 1 ? " (" + attempt + " attempts)" : "");
        if (errno == Sockets.ECONNREFUSED || errno == Sockets.ENOENT) {
            return new ConnectionRefusedException(text, what, errno, Native.errnoName(errno), Native.LIBC.strerror(errno));
        }
        return Sockets.error(what, errno);
    }
}
