package io.dualpipe.core.internal;

import jnr.enxio.channels.NativeSelectableChannel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.SelectionKey;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.List;

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

    private static final VarHandle IO_STATE;

    static {
        try {
            IO_STATE = MethodHandles.lookup().findVarHandle(DeferredCloseChannel.class, "ioState", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int fd;
    private final Object fdLock = new Object();
    // The selectors this channel is registered with (guarded by fdLock): one, as a rule, so it is a
    // field and the list exists only for more; a channel per fd, thousands in a fan-out.
    private EpollSelector registration;
    private List<EpollSelector> moreRegistrations;
    /** (in-flight calls * ONE_CALL) | CLOSING; through {@link #IO_STATE}. */
    private volatile int ioState;
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
            int s = ioState;
            if ((s & CLOSING) != 0) {
                return false;
            }
            if (IO_STATE.compareAndSet(this, s, s + ONE_CALL)) {
                return true;
            }
        }
    }

    /** Ends a call begun by {@link #beginIo()}; the last one after a close releases the fd. */
    protected final void endIo() {
        if ((int) IO_STATE.getAndAdd(this, -ONE_CALL) - ONE_CALL == CLOSING) {
            releaseIfIdle();
        }
    }

    /** Called by the selector under its key lock, before the fd enters epoll. */
    void keyAdded(EpollSelector selector) {
        synchronized (fdLock) {
            if (registration == null) {
                registration = selector;
            } else {
                if (moreRegistrations == null) {
                    moreRegistrations = new ArrayList<>(1);
                }
                moreRegistrations.add(selector);
            }
        }
    }

    /** Guarded by fdLock: one registration with {@code selector} is over. */
    private void unregister(EpollSelector selector) {
        if (registration == selector) {
            registration = moreRegistrations == null || moreRegistrations.isEmpty() ? null : moreRegistrations.remove(0);
        } else if (moreRegistrations != null) {
            moreRegistrations.remove(selector);
        }
    }

    /** The selector failed to add the key it announced with {@link #keyAdded}. */
    void keyAddFailed(EpollSelector selector) {
        synchronized (fdLock) {
            unregister(selector);
        }
    }

    /** Called by the selector once epoll has forgotten the fd, outside the selector's locks. */
    void keyRemoved(EpollSelector selector) {
        synchronized (fdLock) {
            unregister(selector);
        }
        releaseIfIdle();
    }

    private void releaseIfIdle() {
        boolean close;
        synchronized (fdLock) {
            close = closePending && !fdClosed && registration == null && ioState == CLOSING;
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
                if (registration == null) {
                    pending = List.of();
                } else if (moreRegistrations == null || moreRegistrations.isEmpty()) {
                    pending = List.of(registration);
                } else {
                    pending = new ArrayList<>(moreRegistrations);
                    pending.add(0, registration);
                }
            }
        }
        IO_STATE.getAndBitwiseOr(this, CLOSING);
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
