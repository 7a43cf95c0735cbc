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

    public WorkerExitedException(String message, Throwable cause, long pid, ExitStatus exitStatus, String stderrTail) {
        super(message, cause, pid, exitStatus, stderrTail);
    }

    /** No single worker to name (e.g. every worker has exited): pid -1, no status, no stderr. */
    public WorkerExitedException(String message, Throwable cause) {
        this(message, cause, -1, null, "");
    }
}
