package io.dualpipe.core.internal;

import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectionKey;

/**
 * A registration in an {@link EpollSelector}. Follows the {@link java.nio.channels.SelectionKey}
 * contract: interest changes are allowed from any thread and reach the kernel at once; readiness is
 * written only by the selecting thread.
 */
final class EpollSelectionKey extends AbstractSelectionKey {
    final EpollSelector selector;
    final SelectableChannel channel;
    final int fd;
    /** Slot in the selector's key table (low 32 bits) and the slot's generation (high 32 bits). */
    long token;
    /** The epoll events the kernel has for this fd now; 0 = not in the epoll set. Guarded by the selector's key lock. */
    int registeredEvents;
    private volatile int interestOps;
    private int readyOps;

    EpollSelectionKey(EpollSelector selector, SelectableChannel channel, int fd) {
        this.selector = selector;
        this.channel = channel;
        this.fd = fd;
    }

    @Override
    public SelectableChannel channel() {
        return channel;
    }

    @Override
    public Selector selector() {
        return selector;
    }

    @Override
    public int interestOps() {
        ensureValid();
        return interestOps;
    }

    /** Interest without the validity check, for the selector's own bookkeeping. */
    int rawInterestOps() {
        return interestOps;
    }

    @Override
    public EpollSelectionKey interestOps(int ops) {
        ensureValid();
        if ((ops & ~channel.validOps()) != 0) {
            throw new IllegalArgumentException("interest ops 0x" + Integer.toHexString(ops)
                    + " not in the channel's valid ops 0x" + Integer.toHexString(channel.validOps()));
        }
        if (ops != interestOps) {
            interestOps = ops;
            selector.updateInterest(this);
        }
        return this;
    }

    @Override
    public int readyOps() {
        ensureValid();
        return readyOps;
    }

    void readyOps(int ops) {
        readyOps = ops;
    }

    int rawReadyOps() {
        return readyOps;
    }

    private void ensureValid() {
        if (!isValid()) {
            throw new CancelledKeyException();
        }
    }

    @Override
    public String toString() {
        return "EpollSelectionKey[fd=" + fd + ", interest=" + interestOps + ", valid=" + isValid() + "]";
    }
}
