package io.dualpipe.core;

/**
 * A system call failed. Carries the errno and its symbolic name so callers can branch on it without
 * parsing the message: {@code "write(fd 7): EPIPE (Broken pipe)"}.
 */
public class NativeIoException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The raw errno value. */
    private final int errno;
    /** The errno's symbolic name. */
    private final String errnoName;

    /**
     * @param what        the call and its object, e.g. {@code "write(fd 7)"}
     * @param errno       the raw errno value of this platform
     * @param errnoName   the errno's symbolic name, e.g. {@code "EPIPE"}
     * @param description the system's text for it ({@code strerror}), or null
     */
    public NativeIoException(String what, int errno, String errnoName, String description) {
        super(what + ": " + errnoName + (description == null ? "" : " (" + description + ")"));
        this.errno = errno;
        this.errnoName = errnoName;
    }

    /** {@return the raw errno value of this platform} */
    public int errno() {
        return errno;
    }

    /** {@return the errno's symbolic name, such as {@code "EPIPE"}} */
    public String errnoName() {
        return errnoName;
    }
}
