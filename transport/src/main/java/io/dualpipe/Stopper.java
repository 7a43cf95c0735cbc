package io.dualpipe;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;

import java.time.Duration;

/**
 * The close half of {@link DualPipe}: how its child is brought to an end. Its stdin is closed after
 * what is still queued, its unread output is discarded so that a child blocked writing it can
 * exit, and it gets {@code timeout} to exit on its own before SIGTERM and, {@link DualPipe#KILL_GRACE}
 * later, SIGKILL. {@link DualPipe#close(Duration)} keeps what belongs to the facade's state: its
 * idempotence, the lock, the closing flag the halves check, and closing the pipes afterwards.
 *
 * <p><b>Threading.</b> Stateless. Called only by {@link DualPipe#close(Duration)}, under its close
 * lock, on the closing caller's thread; it blocks that thread for up to {@code timeout} plus the
 * kill grace plus 10 s, so the facade refuses an event-loop thread before calling it while the
 * child runs (the loop is what completes the waits).
 */
final class Stopper {
    private Stopper() {
    }

    /**
     * Ends {@code child} and returns how it ended; the caller closes the child afterwards, also when
     * this throws (that close kills a child still running).
     *
     * @throws WaitInterruptedException when interrupted
     */
    static ExitStatus stop(ChildProcess child, Duration timeout, String label) {
        try {
            child.stdin().shutdownOutput();
        } catch (InvalidArgumentException notAPipe) {
            // stdin comes from elsewhere (a file, /dev/null): nothing of ours to close
        }
        Receiver.discard(child.stdout());
        try {
            Receiver.discard(child.stderr()); // a child blocked on a full stderr pipe could not exit either
        } catch (InvalidArgumentException notAPipe) {
            // stderr goes elsewhere: nothing to drain
        }
        try {
            return Waits.await(child.onExit(), Waits.deadline(timeout), timeout, () -> "");
        } catch (WaitTimeoutException e) {
            Duration limit = DualPipe.KILL_GRACE.plusSeconds(10);
            return Waits.await(child.terminate(DualPipe.KILL_GRACE), Waits.deadline(limit), limit,
                    () -> label + " did not die within " + limit + " of SIGTERM and SIGKILL");
        }
    }
}
