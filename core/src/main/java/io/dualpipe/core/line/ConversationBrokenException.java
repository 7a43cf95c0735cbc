package io.dualpipe.core.line;

import io.dualpipe.core.DualPipeException;

/**
 * A {@link Conversation} can no longer tell which reply belongs to which request (a request timed
 * out under {@link TimeoutPolicy#BREAK}, or a reply could not be read to its end), so it fails every
 * outstanding and later request with this instead of risking a wrong answer. The message names the
 * request and the reason; the cause, if any, is the failure that broke it. Restart the child.
 */
public class ConversationBrokenException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message the request and the reason
     * @param cause   the failure that broke the conversation, or null
     */
    public ConversationBrokenException(String message, Throwable cause) {
        super(message, cause);
    }
}
