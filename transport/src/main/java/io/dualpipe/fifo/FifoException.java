package io.dualpipe.fifo;

import io.dualpipe.core.DualPipeException;

import java.nio.file.Path;

/**
 * A FIFO operation failed for a reason tied to the path; subclasses say which. Failures that are a
 * plain errno (EACCES, ENOTDIR ...) are {@link io.dualpipe.core.NativeIoException}s naming the path
 * instead. Immutable, hence thread-safe.
 */
public class FifoException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    private final transient Path path;

    /**
     * @param path    the FIFO's path as the caller gave it
     * @param message what failed, naming the path
     */
    public FifoException(Path path, String message) {
        super(message);
        this.path = path;
    }

    /**
     * @param path    the FIFO's path as the caller gave it
     * @param message what failed, naming the path
     * @param cause   the underlying error
     */
    public FifoException(Path path, String message, Throwable cause) {
        super(message, cause);
        this.path = path;
    }

    /** {@return the FIFO's path as the caller gave it; null after deserialisation (not serialised)} */
    public Path path() {
        return path;
    }
}
