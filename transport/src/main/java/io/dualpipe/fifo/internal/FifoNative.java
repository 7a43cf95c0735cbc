package io.dualpipe.fifo.internal;

import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.fifo.NoSuchFifoException;
import io.dualpipe.fifo.NotAFifoException;
import jnr.constants.platform.Errno;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Loads {@link FifoLib} and wraps its calls: errno instead of -1, EINTR retried, failures turned
 * into typed exceptions that name the path. Thread-safe: everything is final after class
 * initialisation.
 */
public final class FifoNative {
    private static final FifoLib LIB = LibraryLoader.create(FifoLib.class)
            .load(Platform.getNativePlatform().getStandardCLibraryName());

    public static final int ENOENT = Errno.ENOENT.intValue();
    public static final int EEXIST = Errno.EEXIST.intValue();
    public static final int ENXIO = Errno.ENXIO.intValue();
    public static final int EISDIR = Errno.EISDIR.intValue();
    public static final int ELOOP = Errno.ELOOP.intValue();
    private static final int EINTR = Errno.EINTR.intValue();
    /** A symbolic link as the last component fails the open (ELOOP) instead of being followed. */
    public static final int O_NOFOLLOW = OpenFlags.O_NOFOLLOW.intValue();

    // O_NONBLOCK: open(2) on a FIFO otherwise blocks until the other side opens.
    // O_CLOEXEC: set atomically at open, so a child spawned concurrently never inherits the fd.
    public static final int READ_FLAGS = OpenFlags.O_RDONLY.intValue() | Native.O_NONBLOCK | Native.O_CLOEXEC;
    public static final int WRITE_FLAGS = OpenFlags.O_WRONLY.intValue() | Native.O_NONBLOCK | Native.O_CLOEXEC;

    /**
     * The charset the JDK encodes file names with (sun.jnu.encoding), so a non-ASCII path names the
     * same file here as in java.nio.file.
     */
    private static final Charset PATH_CHARSET = pathCharset();

    private FifoNative() {
    }

    /** Opens {@code path}; returns the fd, or the negated errno. */
    public static int open(Path path, int flags) {
        byte[] cPath = cPath(path);
        while (true) {
            int fd = LIB.open(cPath, flags);
            if (fd >= 0) {
                return fd;
            }
            int errno = Native.errno();
            if (errno != EINTR) {
                return -errno;
            }
        }
    }

    /** mkfifo(3); returns 0 or the errno. The kernel applies the umask to {@code mode}. */
    public static int mkfifo(Path path, int mode) {
        return LIB.mkfifo(cPath(path), mode) == 0 ? 0 : Native.errno();
    }

    /** fchmod(2); returns 0 or the errno. */
    public static int fchmod(int fd, int mode) {
        return LIB.fchmod(fd, mode) == 0 ? 0 : Native.errno();
    }

    /** The effective uid of this process: the owner of the files it creates. */
    public static int euid() {
        return LIB.geteuid();
    }

    /**
     * The exception for a failed open of {@code path}: typed where the errno has a FIFO meaning,
     * otherwise a {@link NativeIoException} naming the path, the direction and the errno.
     */
    public static RuntimeException openFailure(Path path, String direction, int errno) {
        if (errno == ENOENT) {
            return new NoSuchFifoException(path);
        }
        if (errno == EISDIR) {
            return new NotAFifoException(path, "directory");
        }
        return error("open fifo " + quote(path) + " for " + direction, errno);
    }

    public static NativeIoException error(String what, int errno) {
        return new NativeIoException(what, errno, Native.errnoName(errno), Native.LIBC.strerror(errno));
    }

    /** {@code '/tmp/x'}: how every message of the package names a path. */
    public static String quote(Path path) {
        return "'" + path + "'";
    }

    /** The NUL-terminated absolute path, resolved against user.dir as java.nio.file does. */
    static byte[] cPath(Path path) {
        byte[] name = path.toAbsolutePath().toString().getBytes(PATH_CHARSET);
        byte[] c = new byte[name.length + 1];
        System.arraycopy(name, 0, c, 0, name.length);
        return c;
    }

    private static Charset pathCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }
}
