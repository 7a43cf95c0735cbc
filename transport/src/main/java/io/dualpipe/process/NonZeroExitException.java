package io.dualpipe.process;

/**
 * A {@link Command} with {@code checkExit(true)} ended unsuccessfully (exit code other than 0, or a
 * signal); {@link #result()} holds its output, its status and its stderr tail. Immutable, hence
 * thread-safe.
 */
public class NonZeroExitException extends CommandException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message the command and its status
     * @param result  its output, status and stderr tail
     */
    public NonZeroExitException(String message, RunResult result) {
        super(message, result);
    }

    /** {@return the status it ended with} */
    public ExitStatus status() {
        return result().status();
    }
}
