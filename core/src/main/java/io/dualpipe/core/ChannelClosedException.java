package io.dualpipe.core;

/**
 * The stream, pipe or connection was closed (by this side, or because the peer went away) while an
 * operation on it was pending or being started.
 */
public class ChannelClosedException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    public ChannelClosedException(String message) {
        super(message);
    }

    public ChannelClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
