package io.dualpipe.core;

/**
 * A write found the other end gone: the child exited or closed its stdin, or the peer closed its
 * socket (EPIPE, ECONNRESET). Every write still queued fails with it too.
 */
public class BrokenPipeException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    public BrokenPipeException(String message, Throwable cause) {
        super(message, cause);
    }
}
