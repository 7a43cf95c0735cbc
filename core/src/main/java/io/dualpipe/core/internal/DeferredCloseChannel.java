package io.dualpipe.core.internal;

import jnr.enxio.channels.NativeSelectableChannel;

import java.nio.channels.SelectionKey;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A selectable channel over an fd it owns, whose fd is closed only once every {@link EpollSelector}
 * it was registered with has taken it out of epoll, and no read or write on it is in flight. Closing
 * an fd that epoll still watches, or that a system call is about to use, and reusing its number for a
 * new file, would let stale events or bytes reach the wrong file; jnr-enxio's own channels close at
 * once.
 *
 * <p>Thread-safe: {@link #close()} may be called from any thread. When the closing thread is not
 * the selecting thread, each selector is woken so the fd is released promptly. A read or write
 * blocked in the kernel (blocking mode) is not interrupted by close; the fd is released when it
 * returns.
 */
public abstract class DeferredCloseChannel extends AbstractSelectableChannel implements NativeSelectableChannel {
    /** Low bit of {@link #ioState}: closing, no new I/O may start. */
    private static final int CLOSING = 1;
    /** One in-flight I/O call in {@link #ioState}. */
    private static final int ONE_CALL = 2;

    private final int fd;
    private final Object fdLock = new Object();
    private final List<EpollSelector> registrations = new ArrayList<>(1);
    /** (in-flight calls * ONE_CALL) | CLOSING. */
    private final AtomicInteger ioState = new AtomicInteger();
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

    /**
     * Marks a system call on the fd as in flight; false once the channel is closing (the fd may be
     * gone). Every true must be matched by one {@link #endIo()}.
     */
    protected final boolean beginIo() {
        while (true) {
            int s = ioState.get();
            if ((s & CLOSING) != 0) {
                return false;
            }
            if (ioState.compareAndSet(s, s + ONE_CALL)) {
                return true;
            }
        }
    }

    /** Ends a call begun by {@link #beginIo()}; the last one after a close releases the fd. */
    protected final void endIo() {
        if (ioState.addAndGet(-ONE_CALL) == CLOSING) {
            releaseIfIdle();
        }
    }

    /** Called by the selector under its key lock, before the fd enters epoll. */
    void keyAdded(EpollSelector selector) {
        synchronized (fdLock) {
            registrations.add(selector);
        }
    }

    /** The selector failed to add the key it announced with {@link #keyAdded}. */
    void keyAddFailed(EpollSelector selector) {
        synchronized (fdLock) {
            registrations.remove(selector);
        }
    }

    /** Called by the selector once epoll has forgotten the fd, outside the selector's locks. */
    void keyRemoved(EpollSelector selector) {
        synchronized (fdLock) {
            registrations.remove(selector);
        }
        releaseIfIdle();
    }

    private void releaseIfIdle() {
        boolean close;
        synchronized (fdLock) {
            close = closePending && !fdClosed && registrations.isEmpty() && ioState.get() == CLOSING;
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
        // register() holds blockingLock() throughout: a registration in progress either finished
        // (and announced its selector) or will find the channel closed.
        synchronized (blockingLock()) {
            synchronized (fdLock) {
                closePending = true;
                pending = new ArrayList<>(registrations);
            }
        }
        ioState.accumulateAndGet(CLOSING, (s, bit) -> s | bit);
        releaseIfIdle();
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
