package io.dualpipe.fifo;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.FdStream;

/**
 * How {@link Fifo#openReader(java.nio.file.Path, io.dualpipe.core.EventLoop, FifoReaderOptions)}
 * opens and serves a FIFO. Immutable: every setter returns a new instance, so one value may be
 * shared between threads and reused.
 */
public final class FifoReaderOptions {
    private static final FifoReaderOptions DEFAULTS = new FifoReaderOptions(false, FdStream.DEFAULT_READ_LIMIT);

    private final boolean keepOpenForWriters;
    private final int readBufferLimit;

    private FifoReaderOptions(boolean keepOpenForWriters, int readBufferLimit) {
        this.keepOpenForWriters = keepOpenForWriters;
        this.readBufferLimit = readBufferLimit;
    }

    /** {@return the defaults: not kept open for writers; a 64 KiB read buffer limit} */
    public static FifoReaderOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Whether the reader also holds a write fd on the FIFO (never written to) so that the stream
     * outlives its writers.
     *
     * <ul>
     * <li>{@code false} (default): the source ends (end of stream) once the last writer closes,
     *     as {@code cat fifo} does. Suits one writer per open, or a session of writers that overlap.
     *     A writer that opens the FIFO after the end was read but before this reader closed its fd
     *     is accepted by the kernel, and its bytes are lost with that fd: a FIFO served by a
     *     succession of writers wants {@code true}.</li>
     * <li>{@code true}: the classic FIFO server. The kernel counts the reader's own write fd as a
     *     writer, so the stream never ends; writers come and go and their bytes arrive in one stream
     *     until the source is closed. Writers opening the FIFO never wait for a reader meanwhile.
     *     Needs write permission on the FIFO as well as read.</li>
     * </ul>
     *
     * @param keep true to keep the stream open for writers
     * @return new options with that setting
     */
    public FifoReaderOptions keepOpenForWriters(boolean keep) {
        return new FifoReaderOptions(keep, readBufferLimit);
    }

    /** {@return whether the reader holds a write fd so that the stream outlives its writers} */
    public boolean keepOpenForWriters() {
        return keepOpenForWriters;
    }

    /**
     * How many bytes the loop buffers before it stops reading the FIFO (writers then block, or get
     * EAGAIN, once the kernel's pipe buffer is full too). See {@link io.dualpipe.core.ByteSource}.
     *
     * @param bytes the limit, {@code > 0}
     * @return new options with that limit
     * @throws InvalidArgumentException if {@code bytes <= 0}
     */
    public FifoReaderOptions readBufferLimit(int bytes) {
        return new FifoReaderOptions(keepOpenForWriters, InvalidArgumentException.requirePositive("readBufferLimit", bytes));
    }

    /** {@return how many bytes the loop buffers before it stops reading the FIFO} */
    public int readBufferLimit() {
        return readBufferLimit;
    }

    @Override
    public String toString() {
        return "FifoReaderOptions[keepOpenForWriters=" + keepOpenForWriters + ", readBufferLimit=" + readBufferLimit + "]";
    }
}
