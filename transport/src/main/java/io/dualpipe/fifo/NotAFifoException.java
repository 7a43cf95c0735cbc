package io.dualpipe.fifo;

import java.nio.file.Path;

/**
 * Something other than a FIFO exists at the path, e.g.
 * {@code fifo '/tmp/x' exists and is not a FIFO (regular file)}. Nothing was created, opened or
 * deleted: the library never writes into, or removes, a file it did not expect. Immutable.
 */
public class NotAFifoException extends FifoException {
    private static final long serialVersionUID = 1L;
    /** What is at the path instead. */
    private final String actualType;

    /**
     * @param path       the path
     * @param actualType what is there instead, e.g. {@code "regular file"}
     */
    public NotAFifoException(Path path, String actualType) {
        super(path, "fifo '" + path + "' exists and is not a FIFO (" + actualType + ")");
        this.actualType = actualType;
    }

    /** {@return what is there instead: "regular file", "directory", "socket", "dangling symbolic link" ...} */
    public String actualType() {
        return actualType;
    }
}
