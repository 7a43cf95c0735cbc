package io.dualpipe.fifo;

import java.nio.file.Path;

/**
 * An open found nothing at the path (ENOENT). Opening never creates the FIFO, so that a typo in a
 * path fails loudly instead of leaving a stray FIFO nobody writes to; call {@link Fifo#create} first.
 * Immutable.
 */
public class NoSuchFifoException extends FifoException {
    private static final long serialVersionUID = 1L;

    /** @param path the path where nothing was found */
    public NoSuchFifoException(Path path) {
        super(path, "fifo '" + path + "' does not exist (create it first with Fifo.create)");
    }
}
