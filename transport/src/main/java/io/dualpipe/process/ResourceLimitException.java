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
    /** The limit's name. */
    private final String limit;
    /** The value asked for. */
    private final long value;

    /**
     * @param message   the program, the limit and why it could not be set
     * @param program   argv[0] as given
     * @param limit     the limit's name, as in {@link ResourceLimits#asMap()}
     * @param value     the value asked for
     * @param errno     the raw errno that explains it (EPERM, EINVAL or ENOSYS)
     * @param errnoName its symbolic name
     */
    public ResourceLimitException(String message, String program, String limit, long value, int errno,
                                  String errnoName) {
        super(message, program, errno, errnoName);
        this.limit = limit;
        this.value = value;
    }

    /** {@return the limit's name, such as {@code "openFiles"}} */
    public String limit() {
        return limit;
    }

    /** {@return the value that was asked for} */
    public long value() {
        return value;
    }
}
