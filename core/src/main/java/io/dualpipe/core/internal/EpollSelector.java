package io.dualpipe.core.internal;

import jnr.enxio.channels.NativeSelectableChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.AbstractSelectableChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import static io.dualpipe.core.internal.EpollKeyTable.DATA_OFFSET;
import static io.dualpipe.core.internal.EpollKeyTable.EPOLLERR;
import static io.dualpipe.core.internal.EpollKeyTable.EPOLLHUP;
import static io.dualpipe.core.internal.EpollKeyTable.EPOLLIN;
import static io.dualpipe.core.internal.EpollKeyTable.EPOLLOUT;
import static io.dualpipe.core.internal.EpollKeyTable.EPOLL_CTL_ADD;
import static io.dualpipe.core.internal.EpollKeyTable.EVENT_SIZE;

/**
 * A {@link Selector} over Linux epoll for any jnr-enxio {@link NativeSelectableChannel}.
 *
 * <p>Thread-safety follows {@code java.nio}: register, cancel, interestOps and wakeup may be called
 * from any thread; one selection runs at a time. Unlike jnr-enxio's poll selector, its cost per
 * select does not grow with the number of idle registrations, cross-thread registration is safe, and
 * wakeups coalesce (an eventfd, written at most once between two selections).
 *
 * <p>epoll reports EPOLLHUP/EPOLLERR even for an empty interest set, so a key whose interest is 0 is
 * taken out of the epoll set rather than left to make every select return.
 *
 * <p>This class owns the epoll and event fds, the locks, the key sets and selection; the
 * {@link EpollKeyTable} holds what epoll knows of each key (slots, tokens, fd owners, epoll_ctl).
 */
final class EpollSelector extends AbstractSelector {
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int EFD_NONBLOCK = 0x800;
    private static final int MAX_EVENTS = 1024;
    private static final long WAKEUP_TOKEN = -1L;

    private final LibC libc = Native.LIBC;
    private final int epfd;
    private final int eventFd;
    private final ByteBuffer events;
    private final long eventsAddress;
    /** Drained by the selecting thread only. */
    private final ByteBuffer drainBuffer;
    private final long drainAddress;
    /** Holds the constant 1 that wakeup() adds to the eventfd; only ever read, so shared by all threads. */
    private final long oneAddress;
    @SuppressWarnings("unused") // keeps the memory behind oneAddress reachable
    private final ByteBuffer one;

    private final Object selectLock = new Object();
    /** Guards {@link #table}; register() holds it across the channel's announcement and the key-set entry too. */
    private final Object keyLock = new Object();
    /** Orders wakeup()'s write against close() closing the eventfd. */
    private final Object wakeupLock = new Object();
    /** Guarded by wakeupLock: once set, the eventfd number is free and may name another file. */
    private boolean eventFdClosed;
    /** Guarded by keyLock. */
    private final EpollKeyTable table;

    private final Set<SelectionKey> keys = ConcurrentHashMap.newKeySet();
    private final Set<SelectionKey> publicKeys = Collections.unmodifiableSet(keys);
    private final Set<SelectionKey> selectedKeys = new HashSet<>();
    private final Set<SelectionKey> publicSelectedKeys = new UngrowableSet(selectedKeys);
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    /** The thread of the last selection: a channel closed on it needs no wakeup to be deregistered. */
    private volatile Thread selectingThread;

    // Scratch for resolving events into keys under keyLock, dispatched after it is released.
    private EpollSelectionKey[] readyKeys = new EpollSelectionKey[MAX_EVENTS];
    private int[] readyOpsScratch = new int[MAX_EVENTS];

    EpollSelector(SelectorProvider provider) throws IOException {
        super(provider);
        // The buffers first: allocateDirect can fail (direct memory limit), and nothing is open yet to leak.
        events = ByteBuffer.allocateDirect(MAX_EVENTS * EVENT_SIZE).order(ByteOrder.nativeOrder());
        eventsAddress = Native.address(events);
        drainBuffer = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        drainAddress = Native.address(drainBuffer);
        one = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).putLong(0, 1L);
        oneAddress = Native.address(one);
        epfd = libc.epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0) {
            throw Native.lastError("epoll_create1");
        }
        eventFd = libc.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (eventFd < 0) {
            RuntimeException e = Native.lastError("eventfd");
            Native.closeQuietly(epfd);
            throw e;
        }
        try {
            table = new EpollKeyTable(epfd); // a direct buffer of its own
        } catch (RuntimeException | Error e) {
            Native.closeQuietly(eventFd);
            Native.closeQuietly(epfd);
            throw e;
        }
        synchronized (keyLock) {
            if (table.ctl(EPOLL_CTL_ADD, eventFd, EPOLLIN, WAKEUP_TOKEN) < 0) {
                RuntimeException e = Native.lastError("epoll_ctl(ADD eventfd)");
                Native.closeQuietly(eventFd);
                Native.closeQuietly(epfd);
                throw e;
            }
        }
    }

    // ---- registration ----------------------------------------------------------------------

    @Override
    protected SelectionKey register(AbstractSelectableChannel ch, int ops, Object attachment) {
        if (!(ch instanceof NativeSelectableChannel)) {
            throw new IllegalSelectorException();
        }
        EpollSelectionKey key = new EpollSelectionKey(this, ch, ((NativeSelectableChannel) ch).getFD());
        key.attach(attachment);
        DeferredCloseChannel deferred = ch instanceof DeferredCloseChannel ? (DeferredCloseChannel) ch : null;
        synchronized (keyLock) {
            if (!isOpen()) {
                throw new ClosedSelectorException();
            }
            // Announced before the key is visible: a close() racing us must find it to deregister it.
            if (deferred != null) {
                deferred.keyAdded(this);
            }
            int slot = table.add(key);
            keys.add(key);
            EpollSelectionKey previousOwner = table.setOwner(key);
            try {
                key.interestOps(ops);
            } catch (RuntimeException e) {
                keys.remove(key);
                table.addFailed(key, slot, previousOwner);
                if (deferred != null) {
                    deferred.keyAddFailed(this);
                }
                throw e;
            }
        }
        return key;
    }

    /** Pushes a key's interest to the kernel; called by the key with the new interest already set. */
    void updateInterest(EpollSelectionKey key) {
        synchronized (keyLock) {
            if (!key.isValid() || !isOpen()) {
                return;
            }
            table.pushInterest(key);
        }
    }

    /** Takes cancelled keys out of epoll and the key table; only the selecting (or closing) thread calls this. */
    private void processDeregisterQueue() {
        Set<SelectionKey> cancelled = cancelledKeys();
        List<DeferredCloseChannel> released = null;
        synchronized (cancelled) {
            if (cancelled.isEmpty()) {
                return;
            }
            synchronized (keyLock) {
                for (Iterator<SelectionKey> it = cancelled.iterator(); it.hasNext(); ) {
                    EpollSelectionKey key = (EpollSelectionKey) it.next();
                    it.remove();
                    table.remove(key);
                    keys.remove(key);
                    selectedKeys.remove(key);
                    deregister(key);
                    if (key.channel instanceof DeferredCloseChannel) {
                        if (released == null) {
                            released = new ArrayList<>();
                        }
                        released.add((DeferredCloseChannel) key.channel);
                    }
                }
            }
        }
        if (released != null) {
            // Outside the locks: this may close fds, which is only safe now that epoll has forgotten them.
            for (DeferredCloseChannel ch : released) {
                ch.keyRemoved(this);
            }
        }
    }

    // ---- selection ---------------------------------------------------------------------------

    @Override
    public Set<SelectionKey> keys() {
        ensureOpen();
        return publicKeys;
    }

    @Override
    public Set<SelectionKey> selectedKeys() {
        ensureOpen();
        return publicSelectedKeys;
    }

    @Override
    public int selectNow() throws IOException {
        return doSelect(null, 0);
    }

    @Override
    public int select(long timeout) throws IOException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0: " + timeout);
        }
        return doSelect(null, timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select() throws IOException {
        return doSelect(null, -1);
    }

    @Override
    public int select(Consumer<SelectionKey> action, long timeout) throws IOException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0: " + timeout);
        }
        return doSelect(java.util.Objects.requireNonNull(action), timeout == 0 ? -1 : timeout);
    }

    @Override
    public int select(Consumer<SelectionKey> action) throws IOException {
        return doSelect(java.util.Objects.requireNonNull(action), -1);
    }

    @Override
    public int selectNow(Consumer<SelectionKey> action) throws IOException {
        return doSelect(java.util.Objects.requireNonNull(action), 0);
    }

    /** @param timeoutMs -1 blocks, 0 polls, otherwise milliseconds (clamped to int). */
    private int doSelect(Consumer<SelectionKey> action, long timeoutMs) throws IOException {
        synchronized (selectLock) {
            ensureOpen();
            selectingThread = Thread.currentThread();
            processDeregisterQueue();
            int n;
            try {
                begin();
                n = libc.epoll_wait(epfd, eventsAddress, MAX_EVENTS, (int) Math.min(timeoutMs, Integer.MAX_VALUE));
            } finally {
                end();
            }
            if (n < 0) {
                int errno = Native.errno();
                if (errno != Native.EINTR) {
                    throw Native.lastError("epoll_wait");
                }
                n = 0;
            }
            processDeregisterQueue();
            return n == 0 ? 0 : processEvents(n, action);
        }
    }

    private int processEvents(int n, Consumer<SelectionKey> action) {
        int ready = 0;
        synchronized (keyLock) {
            for (int i = 0; i < n; i++) {
                int base = i * EVENT_SIZE;
                int ev = events.getInt(base);
                long token = events.getLong(base + DATA_OFFSET);
                if (token == WAKEUP_TOKEN) {
                    libc.read(eventFd, drainAddress, 8);
                    wakeupPending.set(false);
                    continue;
                }
                EpollSelectionKey key = table.keyFor(token);
                if (key == null || !key.isValid()) {
                    continue;
                }
                int interest = key.rawInterestOps();
                int ops = 0;
                if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
                    ops |= interest & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT);
                }
                if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
                    ops |= interest & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT);
                }
                if (ops != 0) {
                    readyKeys[ready] = key;
                    readyOpsScratch[ready] = ops;
                    ready++;
                }
            }
        }
        int updated = 0;
        for (int i = 0; i < ready; i++) {
            EpollSelectionKey key = readyKeys[i];
            readyKeys[i] = null;
            int ops = readyOpsScratch[i];
            if (action != null) {
                if (!key.isValid()) {
                    continue;
                }
                key.readyOps(ops);
                action.accept(key);
                updated++;
            } else if (selectedKeys.contains(key)) {
                int merged = key.rawReadyOps() | ops;
                if (merged != key.rawReadyOps()) {
                    key.readyOps(merged);
                    updated++;
                }
            } else {
                key.readyOps(ops);
                selectedKeys.add(key);
                updated++;
            }
        }
        return updated;
    }

    @Override
    public Selector wakeup() {
        // Coalesced: between two selections at most one write reaches the (non-blocking) eventfd.
        if (wakeupPending.compareAndSet(false, true)) {
            synchronized (wakeupLock) {
                // After close the number is free: writing to it could land in another file.
                if (!eventFdClosed) {
                    libc.write(eventFd, oneAddress, 8);
                }
            }
        }
        return this;
    }

    /** True when the calling thread is the one that ran the last selection. */
    boolean isSelectingThread() {
        return selectingThread == Thread.currentThread();
    }

    private void ensureOpen() {
        if (!isOpen()) {
            throw new ClosedSelectorException();
        }
    }

    @Override
    protected void implCloseSelector() throws IOException {
        wakeup();
        synchronized (selectLock) {
            List<SelectionKey> all;
            synchronized (keyLock) {
                // isOpen() is already false: a register() that passed its check under keyLock has
                // finished adding its key, and no later one will.
                all = new ArrayList<>(keys);
            }
            for (SelectionKey key : all) {
                key.cancel();
            }
            processDeregisterQueue();
            synchronized (keyLock) {
                synchronized (wakeupLock) {
                    eventFdClosed = true;
                    Native.closeQuietly(eventFd);
                }
                Native.closeQuietly(epfd);
            }
        }
    }
}
