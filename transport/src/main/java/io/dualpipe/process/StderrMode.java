package io.dualpipe.process;

/** Where a child's stderr (fd 2) goes. Appending to a file is set with {@link ChildProcessBuilder#stderrAppendTo}. */
public enum StderrMode {
    /** Its own pipe, read through {@link ChildProcess#stderr()}. */
    PIPE,
    /** Into the stdout pipe, interleaved as the child writes. */
    MERGE_WITH_STDOUT,
    /** The parent's own stderr. */
    INHERIT,
    /** /dev/null. */
    DISCARD
}
