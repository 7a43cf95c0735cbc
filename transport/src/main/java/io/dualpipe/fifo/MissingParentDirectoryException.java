package io.dualpipe.fifo;

import java.nio.file.Path;

/**
 * {@link Fifo#create} was given a path whose directory does not exist (ENOENT), e.g.
 * {@code cannot create fifo '/tmp/nope/x': directory '/tmp/nope' does not exist}. Directories are
 * not created on the caller's behalf: their owner and mode decide who may reach the FIFO. Immutable.
 */
public class MissingParentDirectoryException extends FifoException {
    private static final long serialVersionUID = 1L;
    private final transient Path directory;

    /**
     * @param path      the FIFO's path
     * @param directory the directory that is missing
     */
    public MissingParentDirectoryException(Path path, Path directory) {
        super(path, "cannot create fifo '" + path + "': directory '" + directory + "' does not exist");
        this.directory = directory;
    }

    /**
     * {@return the directory that is missing (the FIFO's parent, or an ancestor of it)} Null after
     * deserialisation (not serialised).
     */
    public Path directory() {
        return directory;
    }
}
