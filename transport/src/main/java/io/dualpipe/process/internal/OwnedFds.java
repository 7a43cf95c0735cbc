package io.dualpipe.process.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.Native;

import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;

/**
 * Who owns each fd of a spawn while the child is being set up, so that a failure half way closes
 * every fd exactly once. Closing by number an fd a channel owns (as {@link Spawned#closeAll()}
 * would) can close an unrelated file that reused the number before the channel closes it again.
 * The streams are registered by one loop task queued last: until it is queued their channels are
 * ours (never registered, so closing them here races nothing); once queued, they are the loop's.
 */
final class OwnedFds {
    private static final LazyLogger LOG = new LazyLogger(PosixChildProcess.class);

    private final List<FdChannel> channels = new ArrayList<>();
    private final List<Integer> taken = new ArrayList<>();

    FdChannel channel(int fd, int ops) {
        FdChannel c = new FdChannel(fd, ops); // if this fails, the fd is still closed by number below
        taken.add(fd);
        channels.add(c);
        return c;
    }

    /** {@code c} is no longer ours to close. */
    void handedOver(FdChannel c) {
        channels.remove(c);
    }

    /** A stream not registered yet: its channel stays ours until the registration task is queued. */
    FdStream source(EventLoop loop, int fd, String name, int readLimit) {
        return FdStream.prepareSource(loop, channel(fd, SelectionKey.OP_READ), name, readLimit);
    }

    FdStream sink(EventLoop loop, int fd, String name, int highWater, int lowWater) {
        return FdStream.prepareSink(loop, channel(fd, SelectionKey.OP_WRITE), name, highWater, lowWater);
    }

    FdStream terminal(EventLoop loop, int fd, String name, int readLimit, int highWater, int lowWater, byte eof) {
        return FdStream.prepareTerminal(loop, channel(fd, SelectionKey.OP_READ | SelectionKey.OP_WRITE), name,
                readLimit, highWater, lowWater, eof);
    }

    void release(Spawned s) {
        for (FdChannel c : channels) {
            try {
                c.close(); // never registered: closed at once, and no registration can race it
            } catch (java.io.IOException | RuntimeException e) {
                LOG.get().debug("closing {} failed", c, e);
            }
        }
        // A set: a pty master is both stdinFd and stdoutFd, and must be closed once.
        java.util.Set<Integer> all = new java.util.LinkedHashSet<>(List.of(s.stdinFd(), s.stdoutFd(), s.stderrFd(),
                s.pidfd()));
        for (int i = 0; i < s.extraFdCount(); i++) {
            all.add(s.extraFd(i));
        }
        for (int fd : all) {
            if (fd >= 0 && !taken.contains(fd)) {
                Native.closeQuietly(fd);
            }
        }
    }
}
