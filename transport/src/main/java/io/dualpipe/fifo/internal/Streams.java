package io.dualpipe.fifo.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Puts an open FIFO fd on a loop as a core {@link FdStream}, making sure no fd outlives a failure:
 * {@link FdStream}'s factories throw (LoopClosedException) when the loop is already closed, and
 * then nobody else would close the channel. Thread-safe: stateless.
 */
final class Streams {
    private static final Logger LOG = LoggerFactory.getLogger(Streams.class);

    private Streams() {
    }

    /**
     * A source over {@code channel}. {@code keeperFd} (or -1) is closed when the source ends for any
     * reason: closed by its user, its loop closed, a read error.
     */
    static FdStream source(EventLoop loop, FdChannel channel, String name, int readLimit, int keeperFd) {
        FdStream source;
        try {
            source = FdStream.source(loop, channel, name, readLimit);
        } catch (RuntimeException e) {
            close(channel);
            Native.closeQuietly(keeperFd);
            throw e;
        }
        if (keeperFd >= 0) {
            source.endOfStream().whenComplete((ignored, error) -> Native.closeQuietly(keeperFd));
        }
        return source;
    }

    static FdStream sink(EventLoop loop, FdChannel channel, String name, int lowWater, int highWater) {
        try {
            return FdStream.sink(loop, channel, name, highWater, lowWater);
        } catch (RuntimeException e) {
            close(channel);
            throw e;
        }
    }

    private static void close(FdChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", channel, e);
        }
    }
}
