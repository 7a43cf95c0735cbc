package io.dualpipe.process;

/**
 * A {@link ResourceLimits} limit could not be put in force, so the program was not run: it is above
 * the JVM's own hard limit, or the trampoline shell failed to set it. Names the limit (as in
 * {@link ResourceLimits#asMap()}) and the value asked for, e.g. {@code cannot start program
 * 'python3': limit openFiles=100000 is above this process's hard limit 20000 (EPERM)}.
 *
 * <p>As for every {@link SpawnException}, no process is left and no descriptor leaked. Immutable,
 * hence thread-safe.
 */
public class ResourceLimitException extends SpawnException {
    private static final long serialVersionUID = 1L;
    private final String limit;
    private final long value;

    public ResourceLimitException(String message, String program, String limit, long value, int errno,
                                  String errnoName) {
        super(message, program, errno, errnoName);
        this.limit = limit;
        this.value = value;
    }

    /** The limit's name, such as {@code "openFiles"}. */
    public String limit() {
        return limit;
    }

    /** The value that was asked for. */
    public long value() {
        return value;
    }
}
