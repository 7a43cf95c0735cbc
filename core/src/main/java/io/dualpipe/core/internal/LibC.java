package io.dualpipe.core.internal;

import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;

/**
 * The libc calls the core needs, bound through jffi ({@link CFunction}). Buffers are passed as raw
 * addresses ({@code long}) so the hot path allocates nothing and copies nothing; callers own the
 * memory behind every address for the duration of the call. Results and errno are as libc returns
 * them (read errno with {@link Native#errno()} right after a call that failed).
 *
 * <p>Bound by hand rather than as a jnr-ffi interface: jnr-ffi generates the implementing class
 * with ASM, which cost most of a cold start (issue 11). Types follow what jnr-ffi mapped:
 * {@code ssize_t}/{@code size_t} are C longs, addresses pointer-sized.
 *
 * <p>Linux-only functions ({@code epoll_*}, {@code eventfd}) are looked up by name; calling one
 * where libc lacks it raises {@link UnsatisfiedLinkError}.
 *
 * <p>Thread-safe: stateless bindings; errno is saved per thread.
 */
public final class LibC {
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    private final CFunction read;
    private final CFunction write;
    private final CFunction writePinned;
    private final CFunction close;
    private final CFunction shutdown;
    private final CFunction fcntl;
    private final CFunction pipe2;
    private final CFunction epollCreate1;
    private final CFunction epollCtl;
    private final CFunction epollWait;
    private final CFunction eventfd;
    private final CFunction strerror;

    LibC(Library libc) {
        Type i = Type.SINT32;
        Type ssize = Type.SLONG;
        Type size = Type.ULONG;
        Type ptr = Type.POINTER;
        read = CFunction.bind(libc, "read", true, ssize, i, size, size);
        write = CFunction.bind(libc, "write", true, ssize, i, size, size);
        writePinned = CFunction.bind(libc, "write", true, ssize, i, ptr, size);
        close = CFunction.bind(libc, "close", true, i, i);
        shutdown = CFunction.bind(libc, "shutdown", true, i, i, i);
        fcntl = CFunction.bindVariadic(libc, "fcntl", 2, true, i, i, i, i);
        pipe2 = CFunction.bind(libc, "pipe2", true, i, ptr, i);
        epollCreate1 = CFunction.bind(libc, "epoll_create1", true, i, i);
        epollCtl = CFunction.bind(libc, "epoll_ctl", true, i, i, i, i, size);
        epollWait = CFunction.bind(libc, "epoll_wait", true, i, i, size, i, i);
        eventfd = CFunction.bind(libc, "eventfd", true, i, i, i);
        strerror = CFunction.bind(libc, "strerror", false, ptr, i);
    }

    public long read(int fd, long address, long count) {
        return read.call(fd, address, count);
    }

    public long write(int fd, long address, long count) {
        return write.call(fd, address, count);
    }

    /**
     * write(2) straight from a heap buffer's array, pinned for the call: at most {@code count} of
     * {@code src}'s bytes from its position. For a non-blocking fd only (the collector waits while the
     * array is pinned), and a bounded count: a regular file takes all it is given in one call.
     */
    public long writePinned(int fd, ByteBuffer src, int count) {
        return writePinned.callPinned(fd, src, Math.min(count, src.remaining()));
    }

    public int close(int fd) {
        return (int) close.call(fd);
    }

    public int shutdown(int fd, int how) {
        return (int) shutdown.call(fd, how);
    }

    public int fcntl(int fd, int cmd, int arg) {
        return (int) fcntl.call(fd, cmd, arg);
    }

    /** fds: at least two elements, read before and written after the call (as jnr-ffi marshalled an {@code int[]}). */
    public int pipe2(int[] fds, int flags) {
        if (fds.length < 2) {
            throw new IllegalArgumentException("pipe2 needs an int[2], got int[" + fds.length + "]");
        }
        long mem = MEMORY.allocateMemory(8, false);
        if (mem == 0) { // writing through it would crash the JVM
            throw new OutOfMemoryError("malloc(8) for pipe2");
        }
        try {
            MEMORY.putInt(mem, fds[0]);
            MEMORY.putInt(mem + 4, fds[1]);
            int rc = (int) pipe2.call(mem, flags);
            fds[0] = MEMORY.getInt(mem);
            fds[1] = MEMORY.getInt(mem + 4);
            return rc;
        } finally {
            MEMORY.freeMemory(mem);
        }
    }

    public int epoll_create1(int flags) {
        return (int) epollCreate1.call(flags);
    }

    public int epoll_ctl(int epfd, int op, int fd, long event) {
        return (int) epollCtl.call(epfd, op, fd, event);
    }

    public int epoll_wait(int epfd, long events, int maxevents, int timeout) {
        return (int) epollWait.call(epfd, events, maxevents, timeout);
    }

    public int eventfd(int initval, int flags) {
        return (int) eventfd.call(initval, flags);
    }

    /** The message for errnum in the platform's default charset, or null if libc returned none. */
    public String strerror(int errnum) {
        long p = strerror.call(errnum);
        return p == 0 ? null : new String(MEMORY.getZeroTerminatedByteArray(p), Charset.defaultCharset());
    }

    /** The bindings, for tests that check their declarations (variadic functions and their fixed counts). */
    public CFunction[] functions() {
        return new CFunction[] {read, write, writePinned, close, shutdown, fcntl, pipe2, epollCreate1, epollCtl, epollWait, eventfd, strerror};
    }
}
