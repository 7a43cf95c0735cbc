package io.dualpipe.core.internal;

import com.kenai.jffi.LastError;
import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import io.dualpipe.core.NativeIoException;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Fcntl;
import jnr.constants.platform.OpenFlags;

import java.nio.ByteBuffer;

/**
 * The one place that loads libc for the core, and the errno plumbing around it.
 * Thread-safe: jffi saves errno per thread right after each call.
 */
public final class Native {
    /** The OS as jffi, JNR's native layer, sees it: jnr-ffi's own Platform is not loaded on the way to a child. */
    public static final com.kenai.jffi.Platform.OS OS = com.kenai.jffi.Platform.getPlatform().getOS();
    public static final boolean LINUX = OS == com.kenai.jffi.Platform.OS.LINUX;
    /** libc, opened as jnr-ffi opened it (by its standard name, lazy binding, global symbols). */
    public static final Library LIBC_LIBRARY = openLibc();
    public static final LibC LIBC = new LibC(LIBC_LIBRARY);
    private static final LastError LAST_ERROR = LastError.getInstance();
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

    private Native() {
    }

    /**
     * jnr-ffi's standard C library name (libc.so.6 on Linux, known without loading jnr-ffi's Platform
     * and its jar); where that name is a bare "c" it maps it to a file name as jnr-ffi would. libc
     * is mapped into every JVM, so the default namespace, which holds its symbols, is the last resort.
     */
    private static Library openLibc() {
        String name = LINUX ? "libc.so.6" : jnr.ffi.Platform.getNativePlatform().getStandardCLibraryName();
        Library libc = Library.getCachedInstance(name, Library.LAZY | Library.GLOBAL);
        if (libc == null) {
            libc = Library.getCachedInstance(com.kenai.jffi.Platform.getPlatform().mapLibraryName(name), Library.LAZY | Library.GLOBAL);
        }
        return libc != null ? libc : Library.getDefault();
    }

    /** The errno saved by the calling thread's last libc call. */
    public static int errno() {
        return LAST_ERROR.get();
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
