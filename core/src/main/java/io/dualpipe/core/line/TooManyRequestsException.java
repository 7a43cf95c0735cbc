package io.dualpipe.core.line;

import io.dualpipe.core.DualPipeException;

/**
 * A {@link Conversation} already has its maximum of requests awaiting replies, usually because the
 * peer stopped answering (a block-buffered child) and timed-out requests keep their places.
 */
public class TooManyRequestsException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    public TooManyRequestsException(String message) {
        super(message);
    }
}
