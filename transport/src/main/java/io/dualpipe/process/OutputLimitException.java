package io.dualpipe.process;

/**
 * A {@link Command}'s stdout was longer than its {@code maxOutput} (and truncation was not asked
 * for): reading stopped at the limit, the child's group was killed and the child reaped;
 * {@link #result()} holds the first {@code maxOutput} bytes. Immutable, hence thread-safe.
 */
public class OutputLimitException extends CommandException {
    private static final long serialVersionUID = 1L;
    /** The {@code maxOutput} that was exceeded. */
    private final long limit;

    /**
     * @param message the command and the limit
     * @param partial the first {@code limit} bytes of stdout
     * @param limit   the {@code maxOutput} that was exceeded
     */
    public OutputLimitException(String message, RunResult partial, long limit) {
        super(message, partial);
        this.limit = limit;
    }

    /** {@return the {@code maxOutput} that was exceeded} */
    public long limit() {
        return limit;
    }
}
