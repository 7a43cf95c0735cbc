package io.dualpipe.core.line;

import io.dualpipe.core.DualPipeException;

/**
 * A {@link Conversation} already has its maximum of requests awaiting replies (written, or waiting
 * their turn to be written), usually because the peer stopped answering (a block-buffered child) or,
 * under {@link TimeoutPolicy#KEEP_PLACE}, timed-out requests keep their places.
 */
public class TooManyRequestsException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the limit and the request refused */
    public TooManyRequestsException(String message) {
        super(message);
    }
}
