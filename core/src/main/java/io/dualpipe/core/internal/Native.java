package io.dualpipe.core.internal;

import com.kenai.jffi.MemoryIO;
import io.dualpipe.core.NativeIoException;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.ffi.Runtime;

import java.nio.ByteBuffer;

/**
 * The one place that loads libc for the core, and the errno plumbing around it.
 * Thread-safe: jnr-ffi saves errno per thread right after each call.
 */
public final class Native {
    public static final LibC LIBC = LibraryLoader.create(LibC.class).load(Platform.getNativePlatform().getStandardCLibraryName());
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    private static final MemoryIO MEMORY = MemoryIO.getInstance();

    public static final int EAGAIN = Errno.EAGAIN.intValue();
    public static final int EWOULDBLOCK = Errno.EWOULDBLOCK.intValue();
    public static final int EINTR = Errno.EINTR.intValue();
    public static final int EPIPE = Errno.EPIPE.intValue();
    public static final int EIO = Errno.EIO.intValue();
    public static final int EBADF = Errno.EBADF.intValue();
    public static final int F_GETFL = Fcntl.F_GETFL.intValue();
    public static final int F_SETFL = Fcntl.F_SETFL.intValue();
    public static final int F_GETFD = Fcntl.F_GETFD.intValue();
    public static final int F_SETFD = Fcntl.F_SETFD.intValue();
    public static final int FD_CLOEXEC = 1;
    public static final int O_NONBLOCK = OpenFlags.O_NONBLOCK.intValue();
    public static final int O_CLOEXEC = OpenFlags.O_CLOEXEC.intValue();
    public static final boolean LINUX = Platform.getNativePlatform().getOS() == Platform.OS.LINUX;

    private Native() {
    }

    /** The errno saved by the calling thread's last libc call. */
    public static int errno() {
        return RUNTIME.getLastError();
    }

    /** "EPIPE", or "errno 1234" for a number this platform has no name for. */
    public static String errnoName(int errno) {
        Errno e = Errno.valueOf(errno);
        return e == Errno.__UNKNOWN_CONSTANT__ ? "errno " + errno : e.name();
    }

    /** An exception for the calling thread's last failed call, built right after it. */
    public static NativeIoException lastError(String what) {
        int errno = errno();
        return new NativeIoException(what, errno, errnoName(errno), LIBC.strerror(errno));
    }

    public static boolean isWouldBlock(int errno) {
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }

    /** Address of a direct buffer's first byte (not of its position). */
    public static long address(ByteBuffer direct) {
        return MEMORY.getDirectBufferAddress(direct);
    }

    public static void setNonBlocking(int fd, boolean nonBlocking) {
        int flags = LIBC.fcntl(fd, F_GETFL, 0);
        if (flags < 0) {
            throw lastError("fcntl(" + fd + ", F_GETFL)");
        }
        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags && LIBC.fcntl(fd, F_SETFL, wanted) < 0) {
            throw lastError("fcntl(" + fd + ", F_SETFL)");
        }
    }

    public static void setCloseOnExec(int fd) {
        int flags = LIBC.fcntl(fd, F_GETFD, 0);
        if (flags < 0 || LIBC.fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
            throw lastError("fcntl(" + fd + ", F_SETFD, FD_CLOEXEC)");
        }
    }

    /** Closes fd, ignoring EINTR (Linux frees the fd even then; retrying could close a reused one). */
    public static void closeQuietly(int fd) {
        if (fd >= 0) {
            LIBC.close(fd);
        }
    }
}
