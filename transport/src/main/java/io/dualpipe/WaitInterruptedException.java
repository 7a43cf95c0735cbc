package io.dualpipe;

import io.dualpipe.core.DualPipeException;

/**
 * The thread was interrupted while a blocking {@link DualPipe} call waited. The thread's interrupt
 * status is set again before this is thrown, so code further up still sees it. Unchecked, unlike
 * {@link InterruptedException}, to keep the facade's calls one-liners in scripts and tests.
 * Immutable, hence thread-safe.
 */
public class WaitInterruptedException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what the call waited for
     * @param cause   the interrupt
     */
    public WaitInterruptedException(String message, InterruptedException cause) {
        super(message, cause);
    }
}
