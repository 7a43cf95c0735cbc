package io.dualpipe.core.line;

import io.dualpipe.core.DualPipeException;

/**
 * A reply collected by {@link ReplyReader#untilLine(String, int)} grew past its limit before its
 * terminator came. Where that reply ends is unknown, so the {@link Conversation} breaks.
 */
public class ReplyTooLongException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the limit and the terminator line awaited */
    public ReplyTooLongException(String message) {
        super(message);
    }
}
