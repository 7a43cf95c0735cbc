package io.dualpipe.core;

/**
 * A system call failed. Carries the errno and its symbolic name so callers can branch on it without
 * parsing the message: {@code "write(fd 7): EPIPE (Broken pipe)"}.
 */
public class NativeIoException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    private final int errno;
    private final String errnoName;

    public NativeIoException(String what, int errno, String errnoName, String description) {
        super(what + ": " + errnoName + (description == null ? "" : " (" + description + ")"));
        this.errno = errno;
        this.errnoName = errnoName;
    }

    /** The raw errno value of this platform. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, such as {@code "EPIPE"}. */
    public String errnoName() {
        return errnoName;
    }
}
