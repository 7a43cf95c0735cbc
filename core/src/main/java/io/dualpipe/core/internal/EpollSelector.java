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
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

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
 */
final class EpollSelector extends AbstractSelector {
    private static final int EPOLLIN = 0x001;
    private static final int EPOLLOUT = 0x004;
    private static final int EPOLLERR = 0x008;
    private static final int EPOLLHUP = 0x010;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLL_CTL_MOD = 3;
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int EFD_NONBLOCK = 0x800;
    // struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16 bytes).
    private static final boolean PACKED = com.kenai.jffi.Platform.getPlatform().getCPU() == com.kenai.jffi.Platform.CPU.X86_64;
    private static final int EVENT_SIZE = PACKED ? 12 : 16;
    private static final int DATA_OFFSET = PACKED ? 4 : 8;
    private static final int MAX_EVENTS = 1024;
    private static final long WAKEUP_TOKEN = -1L;

    private final LibC libc = Native.LIBC;
    private final int epfd;
    private final int eventFd;
    private final ByteBuffer events;
    private final long eventsAddress;
    /** One struct epoll_event for epoll_ctl, used under keyLock only. */
    private final ByteBuffer ctlEvent;
    private final long ctlEventAddress;
    /** Drained by the selecting thread only. */
    private final ByteBuffer drainBuffer;
    private final long drainAddress;
    /** Holds the constant 1 that wakeup() adds to the eventfd; only ever read, so shared by all threads. */
    private final long oneAddress;
    @SuppressWarnings("unused") // keeps the memory behind oneAddress reachable
    private final ByteBuffer one;

    private final Object selectLock = new Object();
    private final Object keyLock = new Object();
    /** Orders wakeup()'s write against close() closing the eventfd. */
    private final Object wakeupLock = new Object();
    /** Guarded by wakeupLock: once set, the eventfd number is free and may name another file. */
    private boolean eventFdClosed;
    /**
     * The key that last registered each fd number (guarded by keyLock). A foreign channel (jnr-enxio's)
     * closes its fd at once, so by the time its cancelled key is deregistered the number may belong to
     * a newer key: EPOLL_CTL_DEL by number would then take the new fd out of epoll.
     */
    private EpollSelectionKey[] fdOwners = new EpollSelectionKey[64];
    private EpollSelectionKey[] slots = new EpollSelectionKey[64];
    private int[] generations = new int[64];
    private int[] freeSlots = new int[64];
    private int freeCount;
    private int slotHighWater;

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
        events = ByteBuffer.allocateDirect(MAX_EVENTS * EVENT_SIZE).order(ByteOrder.nativeOrder());
        eventsAddress = Native.address(events);
        ctlEvent = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        ctlEventAddress = Native.address(ctlEvent);
        drainBuffer = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        drainAddress = Native.address(drainBuffer);
        one = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).putLong(0, 1L);
        oneAddress = Native.address(one);
        synchronized (keyLock) {
            if (ctl(EPOLL_CTL_ADD, eventFd, EPOLLIN, WAKEUP_TOKEN) < 0) {
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
            int slot = allocateSlot();
            key.token = ((long) generations[slot] << 32) | slot;
            slots[slot] = key;
            keys.add(key);
            EpollSelectionKey previousOwner = setOwner(key);
            try {
                key.interestOps(ops);
            } catch (RuntimeException e) {
                keys.remove(key);
                releaseSlot(slot);
                fdOwners[key.fd] = previousOwner;
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
            int wanted = toEpoll(key.rawInterestOps());
            int have = key.registeredEvents;
            if (wanted == have) {
                return;
            }
            int op = have == 0 ? EPOLL_CTL_ADD : wanted == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
            if (ctl(op, key.fd, wanted, key.token) < 0) {
                throw Native.lastError("epoll_ctl(" + (op == EPOLL_CTL_ADD ? "ADD" : op == EPOLL_CTL_DEL ? "DEL" : "MOD")
                        + ", fd " + key.fd + ")");
            }
            key.registeredEvents = wanted;
        }
    }

    private static int toEpoll(int ops) {
        int ev = 0;
        if ((ops & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
            ev |= EPOLLIN;
        }
        if ((ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
            ev |= EPOLLOUT;
        }
        return ev;
    }

    /** Records {@code key} as the owner of its fd number; returns the previous owner. Under keyLock. */
    private EpollSelectionKey setOwner(EpollSelectionKey key) {
        int fd = key.fd;
        if (fd >= fdOwners.length) {
            EpollSelectionKey[] grown = new EpollSelectionKey[Math.max(fd + 1, fdOwners.length * 2)];
            System.arraycopy(fdOwners, 0, grown, 0, fdOwners.length);
            fdOwners = grown;
        }
        EpollSelectionKey previous = fdOwners[fd];
        fdOwners[fd] = key;
        return previous;
    }

    private int ctl(int op, int fd, int ev, long token) {
        ctlEvent.putInt(0, ev);
        ctlEvent.putLong(DATA_OFFSET, token);
        return libc.epoll_ctl(epfd, op, fd, ctlEventAddress);
    }

    private int allocateSlot() {
        if (freeCount > 0) {
            return freeSlots[--freeCount];
        }
        if (slotHighWater == slots.length) {
            int n = slots.length * 2;
            EpollSelectionKey[] s = new EpollSelectionKey[n];
            System.arraycopy(slots, 0, s, 0, slots.length);
            int[] g = new int[n];
            System.arraycopy(generations, 0, g, 0, generations.length);
            int[] f = new int[n];
            System.arraycopy(freeSlots, 0, f, 0, freeCount);
            slots = s;
            generations = g;
            freeSlots = f;
        }
        return slotHighWater++;
    }

    private void releaseSlot(int slot) {
        slots[slot] = null;
        generations[slot]++;
        freeSlots[freeCount++] = slot;
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
                    boolean owner = fdOwners[key.fd] == key;
                    if (owner) {
                        fdOwners[key.fd] = null;
                    }
                    if (key.registeredEvents != 0 && owner) {
                        // EBADF/ENOENT: a foreign channel already closed its fd, which left epoll with it.
                        // Not the owner: the number now names a newer key's fd, which must stay in epoll.
                        ctl(EPOLL_CTL_DEL, key.fd, 0, 0);
                    }
                    key.registeredEvents = 0;
                    int slot = (int) key.token;
                    if (slots[slot] == key) {
                        releaseSlot(slot);
                    }
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
                int slot = (int) token;
                EpollSelectionKey key = slot >= 0 && slot < slots.length ? slots[slot] : null;
                if (key == null || key.token != token || !key.isValid()) {
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

    /** The selected-key set: removal allowed, addition not (the Selector contract). */
    private static final class UngrowableSet extends AbstractSet<SelectionKey> {
        private final Set<SelectionKey> delegate;

        UngrowableSet(Set<SelectionKey> delegate) {
            this.delegate = delegate;
        }

        @Override
        public Iterator<SelectionKey> iterator() {
            return delegate.iterator();
        }

        @Override
        public int size() {
            return delegate.size();
        }

        @Override
        public boolean contains(Object o) {
            return delegate.contains(o);
        }

        @Override
        public boolean remove(Object o) {
            return delegate.remove(o);
        }

        @Override
        public void clear() {
            delegate.clear();
        }

        @Override
        public boolean add(SelectionKey key) {
            throw new UnsupportedOperationException("keys cannot be added to a selected-key set");
        }
    }
}
