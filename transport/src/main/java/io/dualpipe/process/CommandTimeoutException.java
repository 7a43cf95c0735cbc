package io.dualpipe.process;

import java.time.Duration;

/**
 * A {@link Command} ran past its timeout: its whole process group was killed (SIGKILL) and the
 * child reaped; {@link #result()} holds the output read until then. Immutable, hence thread-safe.
 */
public class CommandTimeoutException extends CommandException {
    private static final long serialVersionUID = 1L;
    /** The timeout that passed. */
    private final Duration timeout;

    /**
     * @param message the command and the timeout
     * @param partial the output read until the kill
     * @param timeout the timeout that passed
     */
    public CommandTimeoutException(String message, RunResult partial, Duration timeout) {
        super(message, partial);
        this.timeout = timeout;
    }

    /** {@return the timeout that passed} */
    public Duration timeout() {
        return timeout;
    }
}
