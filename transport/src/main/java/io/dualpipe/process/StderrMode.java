package io.dualpipe.process;

/** Where a child's stderr (fd 2) goes. Appending to a file is set with {@link ChildProcessBuilder#stderrAppendTo}. */
public enum StderrMode {
    /**
     * The default: a pipe that the loop reads continuously into a bounded tail (the last 64 KiB
     * unless {@link ChildProcessBuilder#stderrTail(int)} says otherwise), so a child that writes a
     * lot to stderr never stalls on a full pipe that nobody reads. The tail is read with
     * {@link ChildProcess#stderrTail()} and quoted by the {@link ChildExitedException} that fails
     * requests when the child dies. {@link ChildProcess#stderr()} is not available: ask for
     * {@link #PIPE} to read stderr yourself.
     */
    TAIL,
    /**
     * Its own pipe, read through {@link ChildProcess#stderr()} or {@link ChildProcess#errorLines()}.
     * The caller must read it: once the pipe's buffer (64 KiB on Linux) is full, the child blocks on
     * its next write to stderr.
     */
    PIPE,
    /** Into the stdout pipe, interleaved as the child writes. */
    MERGE_WITH_STDOUT,
    /** The parent's own stderr. */
    INHERIT,
    /** /dev/null. */
    DISCARD
}
