package io.dualpipe.pool;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.process.ExitStatus;

/**
 * The child running a request died, or the pool killed it (another request of its timed out, its
 * warm-up failed), before it answered. Carries the child's pid, its exit status when known, and
 * the tail of its stderr, which the message quotes too.
 */
public class ChildLostException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    private final long pid;
    private final transient ExitStatus exitStatus;
    private final String stderrTail;

    public ChildLostException(String message, Throwable cause, long pid, ExitStatus exitStatus, String stderrTail) {
        super(message, cause);
        this.pid = pid;
        this.exitStatus = exitStatus;
        this.stderrTail = stderrTail == null ? "" : stderrTail;
    }

    /** The lost child's pid. */
    public long pid() {
        return pid;
    }

    /** How it ended, or null when the request failed before it was reaped (e.g. it was being killed). */
    public ExitStatus exitStatus() {
        return exitStatus;
    }

    /** The last bytes it wrote to stderr (empty when none, or when stderr was not a pipe). */
    public String stderrTail() {
        return stderrTail;
    }
}
