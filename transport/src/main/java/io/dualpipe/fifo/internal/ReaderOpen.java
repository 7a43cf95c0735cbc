package io.dualpipe.fifo.internal;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import io.dualpipe.fifo.FifoException;
import io.dualpipe.fifo.FifoReaderOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.channels.SelectionKey;
import java.nio.file.Path;

/**
 * Opens the read side of a FIFO. open(O_RDONLY | O_NONBLOCK) on a FIFO succeeds at once whether or
 * not a writer exists, so this never waits and may run on any thread, a loop thread included.
 *
 * <p>With {@link FifoReaderOptions#keepOpenForWriters()} a second fd is opened O_WRONLY (it
 * succeeds: our own read fd is the reader it needs) and held, never written, until the source ends.
 * POSIX leaves O_RDWR on a FIFO undefined, so two fds it is, on every platform.
 */
public final class ReaderOpen {
    private static final Logger LOG = LoggerFactory.getLogger(ReaderOpen.class);

    private ReaderOpen() {
    }

    /**
     * Opens {@code path} for reading, served by {@code loop}. Every fd opened is closed again on
     * failure.
     */
    public static ByteSource open(Path path, EventLoop loop, FifoReaderOptions options) {
        FileTypes.requireFifo(path);
        int fd = FifoNative.open(path, FifoNative.READ_FLAGS);
        if (fd < 0) {
            throw FifoNative.openFailure(path, "reading", -fd);
        }
        int keeper = -1;
        try {
            FileTypes.requireFifoFd(path, fd);
            if (options.keepOpenForWriters()) {
                keeper = FifoNative.open(path, FifoNative.WRITE_FLAGS);
                if (keeper < 0) {
                    throw FifoNative.openFailure(path, "keeping it open for writers", -keeper);
                }
                if (!FileTypes.sameFile(fd, keeper)) {
                    // The path was replaced between the two opens: the keeper would hold some other file open.
                    throw new FifoException(path, "fifo " + FifoNative.quote(path) + " was replaced while it was being opened");
                }
            }
        } catch (RuntimeException e) {
            Native.closeQuietly(keeper);
            Native.closeQuietly(fd);
            throw e;
        }
        FdStream source = Streams.source(loop, new FdChannel(fd, SelectionKey.OP_READ), "fifo reader " + FifoNative.quote(path),
                options.readBufferLimit(), keeper);
        LOG.debug("fifo {}: reader open (fd {}, keeper fd {})", path, fd, keeper);
        return source;
    }
}
