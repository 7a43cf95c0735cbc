package io.dualpipe.process;

/**
 * Where a child's stdout (fd 1) goes. Writing a file is set with {@link ChildProcessBuilder#stdoutTo}
 * or {@link ChildProcessBuilder#stdoutAppendTo}; in a {@linkplain ChildProcess#pipeline pipeline}
 * every stage but the last writes into the next stage's stdin instead.
 */
public enum StdoutMode {
    /** A pipe the parent reads through {@link ChildProcess#stdout()} and the line readers. */
    PIPE,
    /** The parent's own stdout, where the child's output interleaves with the parent's. */
    INHERIT,
    /** /dev/null. */
    DISCARD
}
