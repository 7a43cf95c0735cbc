package io.dualpipe.core.internal;

import jnr.enxio.channels.NativeSelectableChannel;

import java.nio.channels.SelectionKey;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * A selectable channel over an fd it owns, whose fd is closed only once every {@link EpollSelector}
 * it was registered with has taken it out of epoll. Closing an fd that epoll still watches, and
 * reusing its number for a new file, would let stale events reach the wrong channel; jnr-enxio's own
 * channels close at once.
 *
 * <p>Thread-safe: {@link #close()} may be called from any thread. When the closing thread is not
 * the selecting thread, each selector is woken so the fd is released promptly.
 */
public abstract class DeferredCloseChannel extends AbstractSelectableChannel implements NativeSelectableChannel {
    private final int fd;
    private final Object fdLock = new Object();
    private final List<EpollSelector> registrations = new ArrayList<>(1);
    private boolean closePending;
    private boolean fdClosed;

    /** Takes ownership of {@code fd}: it is closed when this channel is. */
    protected DeferredCloseChannel(SelectorProvider provider, int fd) {
        super(provider);
        this.fd = fd;
    }

    @Override
    public final int getFD() {
        return fd;
    }

    void keyAdded(EpollSelector selector) {
        synchronized (fdLock) {
            registrations.add(selector);
        }
    }

    void keyRemoved(EpollSelector selector) {
        boolean close;
        synchronized (fdLock) {
            registrations.remove(selector);
            close = closePending && registrations.isEmpty() && !fdClosed;
            if (close) {
                fdClosed = true;
            }
        }
        if (close) {
            Native.closeQuietly(fd);
        }
    }

    @Override
    protected final void implCloseSelectableChannel() {
        List<EpollSelector> pending;
        synchronized (fdLock) {
            if (registrations.isEmpty()) {
                fdClosed = true;
                pending = null;
            } else {
                closePending = true;
                pending = new ArrayList<>(registrations);
            }
        }
        if (pending == null) {
            Native.closeQuietly(fd);
            return;
        }
        for (EpollSelector selector : pending) {
            SelectionKey key = keyFor(selector);
            if (key != null) {
                key.cancel();
            }
            if (!selector.isSelectingThread()) {
                selector.wakeup();
            }
        }
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        Native.setNonBlocking(fd, !block);
    }
}
