package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * A reply decoded to an object that is not of the class the request asked for with
 * {@link MessageChannel#request(Object, Class)}: {@code "reply to request 7 is java.lang.String
 * (type 0x02), expected java.lang.Integer"}.
 */
public class ReplyTypeException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the request, the class and type byte of the reply, and the class expected */
    public ReplyTypeException(String message) {
        super(message);
    }
}
