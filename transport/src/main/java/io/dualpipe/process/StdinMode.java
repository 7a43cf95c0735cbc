package io.dualpipe.process;

/**
 * Where a child's stdin (fd 0) comes from. Reading a file is set with
 * {@link ChildProcessBuilder#stdinFrom}; in a {@linkplain ChildProcess#pipeline pipeline} every
 * stage after the first reads the previous stage's stdout instead.
 */
public enum StdinMode {
    /** A pipe the parent writes through {@link ChildProcess#stdin()}. */
    PIPE,
    /** The parent's own stdin, shared: whoever reads first takes the bytes. */
    INHERIT,
    /** /dev/null: the child sees end of input at once, and cannot wait on a terminal by accident. */
    NULL_DEVICE
}
