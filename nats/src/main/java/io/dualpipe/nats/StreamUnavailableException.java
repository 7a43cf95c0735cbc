package io.dualpipe.nats;

import io.dualpipe.core.DualPipeException;

/**
 * JetStream did not confirm that it stored a task within the pool's {@code publishTimeout} (the
 * server is down, or unreachable, for longer than that). The task may still have been stored and
 * may still run: delivery is at least once; its result, if any, is dropped.
 */
public class StreamUnavailableException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what could not be stored or set up, and where
     * @param cause   the NATS client's error
     */
    public StreamUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
