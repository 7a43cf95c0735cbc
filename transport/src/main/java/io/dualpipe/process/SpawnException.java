package io.dualpipe.process;

import io.dualpipe.core.DualPipeException;

/**
 * A child process could not be started. Carries the program (argv[0] as given) and the errno that
 * explains why, so callers can branch without parsing the message, e.g.
 * {@code program 'foo' not found (ENOENT)} or
 * {@code working directory '/nope' does not exist (ENOENT)}.
 *
 * <p>When this is thrown no process exists and every descriptor opened for the attempt has been
 * closed again. Immutable, hence thread-safe.
 */
public class SpawnException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** argv[0] as given. */
    private final String program;
    /** The raw errno. */
    private final int errno;
    /** The errno's symbolic name. */
    private final String errnoName;

    /**
     * @param message   what could not be done, e.g. {@code program 'foo' not found (ENOENT)}
     * @param program   argv[0] exactly as given
     * @param errno     the raw errno value of this platform
     * @param errnoName its symbolic name, e.g. {@code "ENOENT"}
     */
    public SpawnException(String message, String program, int errno, String errnoName) {
        super(message);
        this.program = program;
        this.errno = errno;
        this.errnoName = errnoName;
    }

    /** {@return argv[0] exactly as it was given (before any PATH search)} */
    public String program() {
        return program;
    }

    /** {@return the raw errno value of this platform} */
    public int errno() {
        return errno;
    }

    /** {@return the errno's symbolic name, such as {@code "ENOENT"}} */
    public String errnoName() {
        return errnoName;
    }
}
