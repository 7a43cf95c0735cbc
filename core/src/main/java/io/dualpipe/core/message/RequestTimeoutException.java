package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * No reply came within the timeout given to {@link MessageChannel#request(int, Object, Class,
 * java.time.Duration)}. The request is forgotten: a late reply is dropped. The channel stays open.
 */
public class RequestTimeoutException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the request and the timeout */
    public RequestTimeoutException(String message) {
        super(message);
    }
}
