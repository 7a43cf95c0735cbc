package io.dualpipe.worker;

import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ExitStatus;

/**
 * The worker running a task exited (or its pipes closed) before it answered. A
 * {@link ChildExitedException}: it carries the worker's pid, its exit status when it was reaped in
 * time, and the tail of its stderr (a worker's stderr is kept in a bounded tail, see
 * {@link io.dualpipe.process.StderrMode#TAIL}), which the message quotes too. Immutable.
 */
public class WorkerExitedException extends ChildExitedException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message    the worker, its exit status and its stderr's last lines
     * @param cause      the failure that revealed the end, or null
     * @param pid        the worker's pid
     * @param exitStatus how it ended, or null when it was not reaped yet
     * @param stderrTail the last bytes of its stderr
     */
    public WorkerExitedException(String message, Throwable cause, long pid, ExitStatus exitStatus, String stderrTail) {
        super(message, cause, pid, exitStatus, stderrTail);
    }

    /**
     * No single worker to name (e.g. every worker has exited): pid -1, no status, no stderr.
     *
     * @param message what was lost
     * @param cause   the failure that revealed it, or null
     */
    public WorkerExitedException(String message, Throwable cause) {
        this(message, cause, -1, null, "");
    }
}
