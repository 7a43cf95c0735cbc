package io.dualpipe.process;

import io.dualpipe.core.ChannelClosedException;

/**
 * A request to a child failed because the child died, or will never answer: its stdout ended (a
 * {@link ChildProcess#request}), or a {@link io.dualpipe.pool.ChildPool} lost or killed the child
 * running it (it exited, another of its requests timed out, its warm-up failed). The message names
 * the child, its exit status (when it was reaped in time) and the last lines of its stderr tail
 * (see {@link StderrMode#TAIL}), and the fields carry them. A {@link ChannelClosedException}, as
 * such failures were before, so existing handlers still match. Its cause, when there is one, is the
 * failure that revealed the end (the conversation's end of stream). Immutable, hence thread-safe.
 */
public class ChildExitedException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    /** The child's process id. */
    private final long pid;
    private final transient ExitStatus exitStatus;
    /** The last bytes of its stderr, or empty. */
    private final String stderrTail;

    /**
     * @param message    the child, its exit status and its stderr's last lines
     * @param cause      the failure that revealed the end, or null
     * @param pid        the child's process id
     * @param exitStatus how it ended, or null when it was not reaped yet
     * @param stderrTail the last bytes of its stderr; null is taken as empty
     */
    public ChildExitedException(String message, Throwable cause, long pid, ExitStatus exitStatus, String stderrTail) {
        super(message, cause);
        this.pid = pid;
        this.exitStatus = exitStatus;
        this.stderrTail = stderrTail == null ? "" : stderrTail;
    }

    /** {@return the child's process id} */
    public long pid() {
        return pid;
    }

    /**
     * How the child ended, or null when it had not been reaped yet when the request failed (it closed
     * stdout but lived on, or a pool was killing it). Not serialised: null after deserialisation.
     *
     * @return the exit status, or null
     */
    public ExitStatus exitStatus() {
        return exitStatus;
    }

    /** {@return the last bytes of its stderr as kept by {@link StderrMode#TAIL}; empty in the other modes} */
    public String stderrTail() {
        return stderrTail;
    }
}
