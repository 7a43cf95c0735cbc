package io.dualpipe.core;

/**
 * A write found the other end gone: the child exited or closed its stdin, or the peer closed its
 * socket (EPIPE, ECONNRESET). Every write still queued fails with it too.
 */
public class BrokenPipeException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message the stream and what the write found
     * @param cause   the underlying error (such as a {@link NativeIoException} with EPIPE), or null
     */
    public BrokenPipeException(String message, Throwable cause) {
        super(message, cause);
    }
}
