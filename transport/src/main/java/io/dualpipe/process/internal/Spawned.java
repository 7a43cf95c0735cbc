package io.dualpipe.process.internal;

import io.dualpipe.core.internal.Native;

import java.util.Arrays;

/**
 * A freshly started child: its pid, the parent's ends of its pipes, and a pidfd. Every fd here is
 * CLOEXEC (no later child inherits it), and the pipe ends are O_NONBLOCK, ready for an event loop.
 * {@code -1} marks a stream that is not a pipe, and a pidfd this platform cannot provide.
 *
 * <p>The receiver owns every fd and must close each exactly once ({@link #closeAll()} does it),
 * and must reap the pid (see {@link ProcessControl#waitNoHang}). Immutable, hence thread-safe; the
 * fds it names are not.
 */
public final class Spawned {
    private final int pid;
    private final int stdinFd;
    private final int stdoutFd;
    private final int stderrFd;
    private final int[] extraFds;
    private final int pidfd;
    private final byte terminalEof; // 0 when not a terminal

    Spawned(int pid, int stdinFd, int stdoutFd, int stderrFd, int[] extraFds, int pidfd) {
        this(pid, stdinFd, stdoutFd, stderrFd, extraFds, pidfd, (byte) 0);
    }

    /** With {@code terminalEof != 0}, stdinFd == stdoutFd is a pseudo-terminal master. */
    Spawned(int pid, int stdinFd, int stdoutFd, int stderrFd, int[] extraFds, int pidfd, byte terminalEof) {
        this.pid = pid;
        this.stdinFd = stdinFd;
        this.stdoutFd = stdoutFd;
        this.stderrFd = stderrFd;
        this.extraFds = extraFds;
        this.pidfd = pidfd;
        this.terminalEof = terminalEof;
    }

    /** True: {@link #stdinFd()} and {@link #stdoutFd()} are one pseudo-terminal master, read and written. */
    public boolean isTerminal() {
        return terminalEof != 0;
    }

    /** The slave's VEOF character (^D), written to end the child's input; meaningful when {@link #isTerminal()}. */
    public byte terminalEof() {
        return terminalEof;
    }

    public int pid() {
        return pid;
    }

    /** Write end of the child's stdin, or -1. */
    public int stdinFd() {
        return stdinFd;
    }

    /** Read end of the child's stdout, or -1. */
    public int stdoutFd() {
        return stdoutFd;
    }

    /** Read end of the child's stderr, or -1. */
    public int stderrFd() {
        return stderrFd;
    }

    public int extraFdCount() {
        return extraFds.length;
    }

    /** The parent's end of the pipe on child fd {@code 3 + index}: read end for CHILD_WRITES, write end for CHILD_READS. */
    public int extraFd(int index) {
        return extraFds[index];
    }

    /** A pidfd for the child (readable once it exits), or -1 where unavailable (not Linux, old kernel, seccomp). */
    public int pidfd() {
        return pidfd;
    }

    /** Closes every fd above (not the process). Call once; for cleanup paths and tests. */
    public void closeAll() {
        Native.closeQuietly(stdinFd);
        if (stdoutFd != stdinFd) { // one pty master: closing it twice could hit a reused number
            Native.closeQuietly(stdoutFd);
        }
        Native.closeQuietly(stderrFd);
        for (int fd : extraFds) {
            Native.closeQuietly(fd);
        }
        Native.closeQuietly(pidfd);
    }

    @Override
    public String toString() {
        return "Spawned[pid " + pid + ", stdin " + stdinFd + ", stdout " + stdoutFd + ", stderr " + stderrFd
                + ", extra " + Arrays.toString(extraFds) + ", pidfd " + pidfd + "]";
    }
}
