package io.dualpipe.core;

/**
 * The root of every exception DualPipe raises or fails a future with. Unchecked: callers of an
 * asynchronous API meet failures inside {@link java.util.concurrent.CompletionException}s anyway,
 * and a checked base would only be wrapped again.
 *
 * <p>Messages name the offending value and the rule it broke, e.g. {@code "maxLineLength <= 0: -3"}.
 */
public class DualPipeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message the offending value and the rule it broke */
    public DualPipeException(String message) {
        super(message);
    }

    /**
     * @param message the offending value and the rule it broke
     * @param cause   the underlying failure, or null
     */
    public DualPipeException(String message, Throwable cause) {
        super(message, cause);
    }
}
