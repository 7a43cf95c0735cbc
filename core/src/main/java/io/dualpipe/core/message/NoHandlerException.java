package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * A message arrived whose type byte has a codec but no {@link MessageHandler} on the channel (and
 * there is no catch-all handler). Reported to the {@link MessageErrorListener}; a request is answered
 * with an error reply. The channel stays open.
 */
public class NoHandlerException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The message type byte. */
    private final int type;

    /**
     * @param channel   the channel, for the message
     * @param type      the message's type byte
     * @param requestId the request id, or 0 for a one-way message
     */
    public NoHandlerException(String channel, int type, long requestId) {
        super(String.format("%s: no handler for message type 0x%02x%s", channel, type,
                requestId == 0 ? "" : " (request " + requestId + ")"));
        this.type = type;
    }

    /** {@return the message type byte, 0..255} */
    public int type() {
        return type;
    }
}
