package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * A {@link MessageHandler} threw; the cause is what it threw. Reported to the
 * {@link MessageErrorListener}; an unanswered request is answered with an error reply whose text is
 * the cause's {@code toString()}. The channel stays open.
 */
public class HandlerException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The message type byte. */
    private final int type;

    /**
     * @param channel   the channel, for the message
     * @param type      the message's type byte
     * @param requestId the request id, or 0 for a one-way message
     * @param cause     what the handler threw
     */
    public HandlerException(String channel, int type, long requestId, Throwable cause) {
        super(String.format("%s: handler for message type 0x%02x%s threw %s", channel, type,
                requestId == 0 ? "" : " (request " + requestId + ")", cause), cause);
        this.type = type;
    }

    /** {@return the message type byte, 0..255} */
    public int type() {
        return type;
    }
}
