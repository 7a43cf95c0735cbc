package io.dualpipe.process.internal;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.internal.RequestFailures;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ExitStatus;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Explains a {@link PosixChildProcess}'s failed requests: a request that failed because the reply
 * stream ended (the child died, as a rule) fails with a {@link ChildExitedException} naming the
 * exit status and quoting the stderr tail, once both are known or {@link #DEATH_WAIT_NANOS} has
 * passed. Thread-safe; its futures complete on the loop thread.
 */
final class DeathNotice implements RequestFailures {
    /**
     * How long a request whose reply stream ended waits for the exit status and the last stderr
     * bytes before it fails with what it has: a child that closed stdout may live on.
     */
    private static final long DEATH_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final SingleThreadEventLoop loop;
    private final int pid;
    private final String label;
    private final ExitWatcher watcher;
    private final StderrTail tail; // null unless stderr is StderrMode.TAIL

    DeathNotice(SingleThreadEventLoop loop, int pid, String label, ExitWatcher watcher, StderrTail tail) {
        this.loop = loop;
        this.pid = pid;
        this.label = label;
        this.watcher = watcher;
        this.tail = tail;
    }

    /**
     * A request that failed because the reply stream closed (the child died, as a rule) fails with
     * a {@link ChildExitedException} with the exit status and the stderr tail, once both are known or
     * {@link #DEATH_WAIT_NANOS} has passed; any other failure fails it as it is. The conversation
     * calls this for the requests {@link ChildLines} makes, so a request that succeeds costs nothing here.
     */
    @Override
    public void fail(String request, Throwable cause, CompletableFuture<?> future) {
        Throwable c = Futures.unwrap(cause);
        if (!(c instanceof ChannelClosedException) || c instanceof ChildExitedException) {
            future.completeExceptionally(c);
            return;
        }
        afterDeath(() -> future.completeExceptionally(diedBefore(request, c)));
    }

    /** Runs {@code then} once, on the loop, when the child is reaped and its stderr tail ended, or after a bound. */
    private void afterDeath(Runnable then) {
        CompletableFuture<?> known = tail == null ? watcher.exit() : CompletableFuture.allOf(watcher.exit(), tail.ended());
        AtomicBoolean once = new AtomicBoolean();
        Runnable fire = () -> {
            if (once.compareAndSet(false, true)) {
                then.run();
            }
        };
        if (known.isDone()) {
            fire.run();
            return;
        }
        Timeout timer;
        try {
            timer = loop.schedule(fire, DEATH_WAIT_NANOS, TimeUnit.NANOSECONDS);
        } catch (LoopClosedException closed) {
            fire.run();
            return;
        }
        known.whenComplete((v, e) -> {
            timer.cancel();
            fire.run();
        });
    }

    private ChildExitedException diedBefore(String line, Throwable cause) {
        LoopFuture<ExitStatus> exit = watcher.exit();
        ExitStatus status = exit.isDone() && !exit.isCompletedExceptionally() ? exit.join() : null;
        String request = line.length() > 80 ? line.substring(0, 80) + "..." : line;
        String what = status != null ? " exited (" + status + ") before it answered '" + request + "'"
                : ": its stdout ended before it answered '" + request + "', and it had not exited "
                + Duration.ofNanos(DEATH_WAIT_NANOS).toMillis() + " ms later";
        String text = tail == null ? "" : tail.text();
        return new ChildExitedException(label + what + (tail == null ? "" : tail.describe()), cause, pid, status, text);
    }
}
