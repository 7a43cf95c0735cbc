package io.dualpipe.core;

/**
 * The event loop a piece of work was bound to has been closed. Every future of the library that was
 * still pending when its loop closed fails with this, and work handed to a closed loop is refused
 * with it.
 */
public class LoopClosedException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the loop and the work it refused or failed */
    public LoopClosedException(String message) {
        super(message);
    }
}
