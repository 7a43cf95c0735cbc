package io.dualpipe.process;

import io.dualpipe.core.InvalidArgumentException;

import java.nio.file.Path;

/**
 * Where a child's stdin, stdout and stderr go, as {@link ChildProcessBuilder} is told: a mode or a
 * file for each stream, and the rules by which a later choice replaces an earlier one. A mode drops
 * the file chosen before it; a file, once set, takes precedence over the mode (the launcher reads
 * the file first); {@code stdoutTo} and {@code stdoutAppendTo} differ only in the append flag. Kept
 * apart from the builder so that these rules sit in one place and the builder holds the public
 * contract, which names them.
 *
 * <p><b>Threading.</b> Not thread-safe, as the builder that owns it: it is changed by the thread
 * configuring that builder and read by whichever thread calls {@link ChildProcessBuilder#start()},
 * which the builder's contract requires to be the same one or to follow it.
 */
final class Redirects {
    private StdinMode stdin = StdinMode.PIPE;
    private Path stdinFile;
    private StdoutMode stdout = StdoutMode.PIPE;
    private Path stdoutFile;
    private boolean stdoutAppend;
    private StderrMode stderr = StderrMode.TAIL;
    private Path stderrFile;
    private int stderrTail = 64 * 1024;

    void stdin(StdinMode mode) {
        this.stdin = InvalidArgumentException.requireNonNull("stdin mode", mode);
        this.stdinFile = null;
    }

    void stdinFrom(Path file) {
        this.stdinFile = InvalidArgumentException.requireNonNull("stdin file", file);
    }

    void stdout(StdoutMode mode) {
        this.stdout = InvalidArgumentException.requireNonNull("stdout mode", mode);
        // the append flag is left as it was: it means nothing without a file, and the next file sets it
        this.stdoutFile = null;
    }

    void stdoutTo(Path file, boolean append) {
        this.stdoutFile = InvalidArgumentException.requireNonNull("stdout file", file);
        this.stdoutAppend = append;
    }

    void stderr(StderrMode mode) {
        this.stderr = InvalidArgumentException.requireNonNull("stderr mode", mode);
        this.stderrFile = null;
    }

    void stderrAppendTo(Path file) {
        this.stderrFile = InvalidArgumentException.requireNonNull("stderr file", file);
    }

    void stderrTail(int bytes) {
        this.stderrTail = InvalidArgumentException.requirePositive("stderrTail", bytes);
    }

    StdinMode stdinMode() {
        return stdin;
    }

    Path stdinFile() {
        return stdinFile;
    }

    StdoutMode stdoutMode() {
        return stdout;
    }

    Path stdoutFile() {
        return stdoutFile;
    }

    boolean stdoutAppend() {
        return stdoutAppend;
    }

    StderrMode stderrMode() {
        return stderr;
    }

    Path stderrFile() {
        return stderrFile;
    }

    int stderrTailBytes() {
        return stderrTail;
    }
}
