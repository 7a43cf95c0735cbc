package io.dualpipe.core;

/**
 * The stream, pipe or connection was closed (by this side, or because the peer went away) while an
 * operation on it was pending or being started.
 */
public class ChannelClosedException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the channel and the operation that met it closed */
    public ChannelClosedException(String message) {
        super(message);
    }

    /**
     * @param message the channel and the operation that met it closed
     * @param cause   what closed it, or null
     */
    public ChannelClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
