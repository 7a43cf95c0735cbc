package io.dualpipe;

import io.dualpipe.core.DualPipeException;

import java.time.Duration;

/**
 * A blocking {@link DualPipe} call waited as long as it was allowed to and what it waited for did
 * not happen: no bytes, no complete line, queued input not taken. Nothing is lost: bytes that did
 * arrive stay buffered for the next call, and the pipe stays usable.
 *
 * <p>A timeout while the child is alive and silent is often a child whose output sits in its own
 * stdio buffer; see {@code docs/buffering.md}. Immutable, hence thread-safe.
 */
public class WaitTimeoutException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** How long the call waited. */
    private final Duration timeout;

    /**
     * @param message what the call waited for and what was missing
     * @param timeout how long it waited
     */
    public WaitTimeoutException(String message, Duration timeout) {
        super(message);
        this.timeout = timeout;
    }

    /** {@return how long the call waited} */
    public Duration timeout() {
        return timeout;
    }
}
