package io.dualpipe.core.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;

/**
 * An {@link EpollSelector}'s registrations as epoll knows them: the slot table that turns the token
 * epoll hands back with an event into a key, the key that owns each fd number, and the epoll_ctl
 * calls that keep the kernel's interest set in step with each key's interest.
 *
 * <p>A token is a slot (low 32 bits) and the slot's generation (high 32 bits). A slot is reused
 * once its key is deregistered; the generation keeps an event read for the old key from reaching
 * the new one.
 *
 * <p>Threading: not thread-safe. Every method is called with the selector's key lock held; the
 * selector owns that lock because its blocks also cover its key set and its channels' announcements.
 * Small final methods, so that the selector's per-event path through them inlines.
 */
final class EpollKeyTable {
    static final int EPOLLIN = 0x001;
    static final int EPOLLOUT = 0x004;
    static final int EPOLLERR = 0x008;
    static final int EPOLLHUP = 0x010;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CTL_MOD = 3;
    // struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16 bytes).
    private static final boolean PACKED = com.kenai.jffi.Platform.getPlatform().getCPU() == com.kenai.jffi.Platform.CPU.X86_64;
    static final int EVENT_SIZE = PACKED ? 12 : 16;
    static final int DATA_OFFSET = PACKED ? 4 : 8;

    private final LibC libc = Native.LIBC;
    /** Owned by the selector, which closes it; this table only adds, changes and removes fds in it. */
    private final int epfd;
    /** One struct epoll_event for epoll_ctl, used under keyLock only. */
    private final ByteBuffer ctlEvent;
    private final long ctlEventAddress;
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

    EpollKeyTable(int epfd) {
        this.epfd = epfd;
        ctlEvent = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        ctlEventAddress = Native.address(ctlEvent);
    }

    /** Gives {@code key} a free slot and the token naming it; returns the slot. */
    int add(EpollSelectionKey key) {
        int slot = allocateSlot();
        key.token = ((long) generations[slot] << 32) | slot;
        slots[slot] = key;
        return slot;
    }

    /** Undoes {@link #add} and {@link #setOwner} for a key whose registration failed. */
    void addFailed(EpollSelectionKey key, int slot, EpollSelectionKey previousOwner) {
        releaseSlot(slot);
        fdOwners[key.fd] = previousOwner;
    }

    /** The key {@code token} names, or null when its slot is empty or has been reused since. */
    EpollSelectionKey keyFor(long token) {
        int slot = (int) token;
        EpollSelectionKey key = slot >= 0 && slot < slots.length ? slots[slot] : null;
        return key == null || key.token != token ? null : key;
    }

    /** Pushes a key's interest, already set on the key, to the kernel (adding or removing the fd as needed). */
    void pushInterest(EpollSelectionKey key) {
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

    /** Records {@code key} as the owner of its fd number; returns the previous owner. */
    EpollSelectionKey setOwner(EpollSelectionKey key) {
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

    /** Takes a cancelled key out of epoll and out of the table. */
    void remove(EpollSelectionKey key) {
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
    }

    /** epoll_ctl on this table's epoll fd; the result of the call (negative: see errno). */
    int ctl(int op, int fd, int ev, long token) {
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
}
