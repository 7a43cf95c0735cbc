package io.dualpipe.process;

import io.dualpipe.core.ChannelClosedException;

/**
 * A request to a child failed because the child's stdout ended, which almost always means the child
 * died: the message names the request, the child's exit status (when it was reaped in time) and the
 * last lines of its stderr tail (see {@link StderrMode#TAIL}), and the fields carry them. A
 * {@link ChannelClosedException}, as such failures were before, so existing handlers still match.
 * Its cause is the conversation's own end-of-stream failure. Immutable, hence thread-safe.
 */
public class ChildExitedException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    private final long pid;
    private final transient ExitStatus exitStatus;
    private final String stderrTail;

    public ChildExitedException(String message, Throwable cause, long pid, ExitStatus exitStatus, String stderrTail) {
        super(message, cause);
        this.pid = pid;
        this.exitStatus = exitStatus;
        this.stderrTail = stderrTail == null ? "" : stderrTail;
    }

    /** The child's process id. */
    public long pid() {
        return pid;
    }

    /** How the child ended, or null when it still ran (it closed stdout but lives on) when the request failed. */
    public ExitStatus exitStatus() {
        return exitStatus;
    }

    /** The last bytes of its stderr as kept by {@link StderrMode#TAIL}; empty in the other modes. */
    public String stderrTail() {
        return stderrTail;
    }
}
