package io.dualpipe.process.internal;

import io.dualpipe.core.FdChannel;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.process.ExitStatus;

import java.nio.channels.SelectionKey;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches one child for its exit, reaps it, and signals it: through its pidfd where there is one
 * (readable once the child exits), else by polling waitpid with a backoff.
 *
 * <p>Exit state is written on the loop thread; {@link #signal} synchronises with the reaping so that
 * no signal is ever sent to a pid (or through a pidfd) after the child was reaped. When the loop
 * closes, nothing would watch the child any more, so it is killed and reaped at once. The exit
 * future is the library's own: hand out {@link io.dualpipe.core.internal.LoopFutures#copyOf copies}.
 */
final class ExitWatcher implements IoHandler {
    private static final LazyLogger LOG = new LazyLogger(PosixChildProcess.class);
    private static final long MIN_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** How long closing a loop waits for a SIGKILLed child to be reapable. */
    private static final long KILL_REAP_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final SingleThreadEventLoop loop;
    private final int pid;
    private final boolean ownGroup;
    private final String label;
    /** Runs on the loop thread once the child is reaped, before the exit future completes. */
    private final Runnable onReaped;
    private final LoopFuture<ExitStatus> exit = new LoopFuture<>();

    private final Object reapLock = new Object();
    private FdChannel pidfd; // guarded by reapLock; null once reaped or when unavailable
    private boolean reaped;  // guarded by reapLock
    private long pollNanos = MIN_POLL_NANOS; // loop thread
    private Runnable removeCloseHook;
    /** The one pending SIGKILL of {@link #scheduleKill}, and when it fires; guarded by reapLock. */
    private Timeout killTimer;
    private long killDeadline;

    /** {@code pidfd} may be null (no pidfd_open): the child is then polled, and the loop's close hook kills it. */
    ExitWatcher(SingleThreadEventLoop loop, int pid, boolean ownGroup, String label, FdChannel pidfd, Runnable onReaped) {
        this.loop = loop;
        this.pid = pid;
        this.ownGroup = ownGroup;
        this.label = label;
        this.onReaped = onReaped;
        this.pidfd = pidfd;
        if (pidfd == null) {
            removeCloseHook = loop.onClose(this::loopClosed);
        }
    }

    /** Loop thread, once: registers the pidfd, or takes the first look in polling mode. */
    void startNow() {
        if (pidfd != null) {
            loop.register(pidfd, SelectionKey.OP_READ, this).whenComplete((k, e) -> {
                if (e != null) {
                    killAndReap(e instanceof LoopClosedException ? (LoopClosedException) e
                            : new LoopClosedException(label + ": cannot watch its exit: " + e));
                }
            });
        } else {
            poll();
        }
    }

    /** The start task was never queued: whoever started the child reaps it, not the loop's close hook. */
    void abandon() {
        if (removeCloseHook != null) {
            removeCloseHook.run();
        }
    }

    /** The pidfd's channel, for its hand-over at start; null in polling mode. */
    FdChannel pidfdChannel() {
        synchronized (reapLock) {
            return pidfd;
        }
    }

    /** The library's own exit future; never hand it out. */
    LoopFuture<ExitStatus> exit() {
        return exit;
    }

    boolean isReaped() {
        synchronized (reapLock) {
            return reaped;
        }
    }

    @Override
    public void ready(int readyOps) {
        poll();
    }

    /** Loop thread: reaps the child if it has exited; in polling mode, schedules the next look. */
    private void poll() {
        ExitStatus status;
        try {
            // Reaped under the lock signal() takes: once waitpid has freed the pid, no signal may
            // find the child still marked alive and go to whoever reuses the pid (or its group).
            synchronized (reapLock) {
                status = ProcessControl.waitNoHang(pid);
                if (status != null) {
                    reaped = true;
                }
            }
        } catch (RuntimeException e) {
            LOG.get().error("{}: waitpid failed; its exit status is lost", label, e);
            markReaped();
            exit.completeExceptionally(e);
            return;
        }
        if (status != null) {
            markReaped();
            onReaped.run();
            exit.complete(status);
        } else if (pidfdChannel() == null && !loop.isClosed()) {
            loop.schedule(this::poll, pollNanos, TimeUnit.NANOSECONDS);
            pollNanos = Math.min(pollNanos * 2, MAX_POLL_NANOS);
        }
    }

    private void markReaped() {
        FdChannel fd;
        Timeout t;
        synchronized (reapLock) {
            reaped = true;
            fd = pidfd;
            pidfd = null;
            t = killTimer;
            killTimer = null;
        }
        if (fd != null) {
            try {
                fd.close();
            } catch (java.io.IOException e) {
                LOG.get().debug("{}: closing pidfd failed", label, e);
            }
        }
        if (t != null) {
            t.cancel();
        }
        if (removeCloseHook != null) {
            removeCloseHook.run();
        }
    }

    /** See {@link io.dualpipe.process.ChildProcess#signal(int)}. */
    boolean signal(int signal) {
        synchronized (reapLock) {
            if (reaped) {
                return false;
            }
            if (ownGroup) {
                return ProcessControl.signalGroup(pid, signal);
            }
            return ProcessControl.signal(pid, pidfd == null ? -1 : pidfd.getFD(), signal);
        }
    }

    /**
     * Makes sure a SIGKILL comes within {@code graceNanos} from now, keeping one timer per child
     * however often terminate() is called: a later call may bring the SIGKILL forward (its caller
     * asked for it by then), never push it back (an earlier caller was promised it), and the timer
     * it replaces is cancelled rather than left in the loop's heap until it fires.
     */
    void scheduleKill(long graceNanos) {
        long deadline = System.nanoTime() + graceNanos;
        Timeout replaced;
        synchronized (reapLock) {
            if (reaped) {
                return; // markReaped() has cancelled the timer already: a new one would outlive the child
            }
            if (killTimer != null && killDeadline - deadline <= 0) {
                return;
            }
            replaced = killTimer;
            try {
                killTimer = loop.schedule(() -> signal(ProcessControl.SIGKILL), graceNanos, TimeUnit.NANOSECONDS);
                killDeadline = deadline;
            } catch (LoopClosedException e) {
                killTimer = null;
                signal(ProcessControl.SIGKILL); // reapLock is reentrant for it
            }
        }
        if (replaced != null) {
            replaced.cancel();
        }
    }

    @Override
    public void loopClosed(LoopClosedException cause) {
        killAndReap(cause);
    }

    /** The loop is going away: nothing will watch this child any more, so kill it and reap it now. */
    private void killAndReap(LoopClosedException cause) {
        if (signal(ProcessControl.SIGKILL)) {
            LOG.get().debug("{}: killed because {}", label, cause.getMessage());
        }
        if (!isReaped()) {
            reapBlocking(pid);
            markReaped();
        }
        exit.completeExceptionally(cause);
    }

    /** Waits for a SIGKILLed child to become reapable; bounded, off the hot path (loop close only). */
    static void reapBlocking(int pid) {
        long deadline = System.nanoTime() + KILL_REAP_NANOS;
        while (ProcessControl.waitNoHang(pid) == null) {
            if (System.nanoTime() - deadline > 0) {
                LOG.get().error("pid {} did not die within 10 s of SIGKILL; it will be left to init", pid);
                return;
            }
            LockSupport.parkNanos(200_000);
        }
    }
}
