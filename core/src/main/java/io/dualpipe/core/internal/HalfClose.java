package io.dualpipe.core.internal;

/** How an {@link FdStream}'s write side is half-closed by {@code shutdownOutput()}. */
enum HalfClose {
    /** Close the fd: a pipe's reader then sees end of stream. */
    CLOSE_FD,
    /** shutdown(SHUT_WR): a socket's peer sees end of stream while reading goes on. */
    SHUTDOWN_WRITE,
    /**
     * A pseudo-terminal master, one fd for both directions that cannot be half-closed: the
     * terminal's EOF character is written instead (twice when the last byte written did not end
     * a line, since the first one only completes that line), so a canonical-mode reader on the
     * slave sees end of input. Reading also ends at EIO, which is how Linux reports a master
     * whose slave every process has closed; at that point writing ends too. The fd is closed
     * only once {@link FdStream#closeAtEndOfInput()} was called as well (see there).
     */
    TERMINAL_EOF;

    private static final int SHUT_WR = 1;

    /**
     * shutdown(SHUT_WR) on a socket that is still read: the failure, or null. Guarded like read and
     * write, so a concurrent close cannot make it hit a reused fd number.
     */
    static RuntimeException shutdownWrite(io.dualpipe.core.FdChannel channel, String name) {
        if (!channel.beginIo()) {
            return new io.dualpipe.core.ChannelClosedException(name + ": closed before shutdown(SHUT_WR)");
        }
        try {
            return Native.LIBC.shutdown(channel.getFD(), SHUT_WR) < 0 ? Native.lastError(name + ": shutdown(SHUT_WR)") : null;
        } finally {
            channel.endIo();
        }
    }
}
