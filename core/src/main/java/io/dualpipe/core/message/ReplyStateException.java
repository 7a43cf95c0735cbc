package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * A reply that cannot be sent in the state the request is in: the message was one-way, the request
 * was already answered or deferred, or a {@link MessageContext} was used after its handler returned.
 */
public class ReplyStateException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the request and the state it is in */
    public ReplyStateException(String message) {
        super(message);
    }
}
