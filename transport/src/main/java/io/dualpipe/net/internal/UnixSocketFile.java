package io.dualpipe.net.internal;

import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.net.AddressInUseException;
import jnr.constants.platform.Errno;
import jnr.ffi.Platform;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;

/**
 * The socket file's life around a server: making its path free for {@code bind} without ever taking
 * a live server's, and removing only our own file at the end.
 */
final class UnixSocketFile {
    private static final Logger LOG = LoggerFactory.getLogger(UnixSocketFile.class);
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFLNK = 0120000;

    private static final Platform.OS OS = Platform.getNativePlatform().getOS();
    private static final int AT_FDCWD = OS == Platform.OS.DARWIN ? -2 : -100;
    private static final int AT_SYMLINK_NOFOLLOW = OS == Platform.OS.DARWIN ? 0x20 : OS == Platform.OS.FREEBSD ? 0x200 : 0x100;
    private static final int ENOTSUP = Errno.ENOTSUP.intValue();
    private static final int EOPNOTSUPP = Errno.EOPNOTSUPP.intValue();

    private UnixSocketFile() {
    }

    /**
     * Leaves {@code path} free: nothing there, or a stale socket file removed. A socket file is stale
     * when connecting to it is refused (its server died without removing it); anything else (a live
     * server, a regular file, a symlink, a socket we may not connect to) is left alone and refused.
     *
     * <p>Not atomic with the caller's bind and listen: a server starting on the same path at the same
     * time, between its bind and its listen, looks stale here and loses its file (documented on
     * {@code MessageServerBuilder.bind(Path)}). A lock file would close the gap, but it would leave a
     * second file beside every socket that can never safely be removed, and FileChannel locks are
     * held per process, so servers in one JVM would need a guard of their own as well.
     *
     * @throws AddressInUseException naming the path and the reason
     */
    static void prepare(Path path) {
        String address = "unix:" + path;
        Integer mode = mode(path);
        if (mode == null) {
            return;
        }
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new AddressInUseException(address, address + " exists and is not a socket (mode 0"
                    + Integer.toOctalString(mode) + "); refusing to replace it", null);
        }
        int errno = probe(path);
        if (errno == 0 || errno == Sockets.EAGAIN) {
            // EAGAIN: the backlog is full, which only a live listener has. (Linux. macOS answers a full
            // backlog with ECONNREFUSED, so there a live server whose backlog is full at this very moment
            // looks stale; not verified on macOS.)
            throw new AddressInUseException(address, address + " is in use by a live server (a connect to it "
                    + (errno == 0 ? "succeeded" : "found its backlog full") + "); not taking it over", null);
        }
        if (errno == Sockets.ENOENT) {
            return; // removed meanwhile
        }
        if (errno != Sockets.ECONNREFUSED) {
            NativeIoException cause = Sockets.error("connect(" + address + ")", errno);
            throw new AddressInUseException(address, address + " exists and cannot be probed (" + cause.getMessage()
                    + "), so it may belong to a live server; not replacing it", cause);
        }
        int unlinked = UnixSockets.unlink(path);
        if (unlinked != 0 && unlinked != Sockets.ENOENT) {
            throw Sockets.error("unlink(" + path + ") of a stale socket file", unlinked);
        }
        LOG.info("{}: replaced a stale socket file (connect was refused: the server that made it is gone)", address);
    }

    /**
     * Sets the permission bits of the socket file this server has just bound, never through a
     * symbolic link: chmod(2) on the path would follow a link planted there since the bind (by anyone
     * who may write to the directory) and change its target's mode, /etc/shadow's for a root server.
     * The path must still hold a socket owned by this process's user (lstat); the mode is then set
     * with fchmodat(AT_SYMLINK_NOFOLLOW), which refuses a link that appeared after that check. Where
     * the C library refuses the flag itself (glibc before 2.32: ENOTSUP), a plain chmod follows the
     * check, which leaves the short window between the two open there.
     *
     * @throws AddressInUseException when the path holds anything but a socket of ours; left alone
     */
    static void setMode(Path path, int mode) {
        String address = "unix:" + path;
        Map<String, Object> stat;
        try {
            stat = Files.readAttributes(path, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new AddressInUseException(address, address + ": the socket file just bound cannot be checked (" + e
                    + "); not setting its mode", e);
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            stat = null; // no owner to check: fchmodat's NOFOLLOW still holds
        }
        if (stat != null) {
            int st = (Integer) stat.get("mode");
            int uid = (Integer) stat.get("uid");
            int euid = Sockets.LIB.geteuid();
            if ((st & S_IFMT) != S_IFSOCK || uid != euid) {
                throw new AddressInUseException(address, address + " is no longer the socket file this server bound: it is "
                        + ((st & S_IFMT) == S_IFLNK ? "a symbolic link" : (st & S_IFMT) == S_IFSOCK ? "a socket" : "a file of mode 0"
                        + Integer.toOctalString(st)) + " owned by uid " + uid + " (this process runs as uid " + euid
                        + "); not setting its mode to 0" + Integer.toOctalString(mode), null);
            }
        }
        byte[] cPath = UnixSockets.cString(path);
        if (Sockets.LIB.fchmodat(AT_FDCWD, cPath, mode, AT_SYMLINK_NOFOLLOW) == 0) {
            return;
        }
        int errno = Native.errno();
        if (errno == EOPNOTSUPP && Files.isSymbolicLink(path)) {
            throw new AddressInUseException(address, address + " became a symbolic link after this server bound it;"
                    + " not setting its mode through it", null);
        }
        if (errno == ENOTSUP || errno == EOPNOTSUPP) { // a C library without AT_SYMLINK_NOFOLLOW: checked just above
            if (Sockets.LIB.chmod(cPath, mode) == 0) {
                return;
            }
            errno = Native.errno();
        }
        throw Sockets.error("chmod(" + path + ", 0" + Integer.toOctalString(mode) + ")", errno);
    }

    /** The identity of the file at {@code path} (device and inode), or null if there is none. */
    static Object identity(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** Removes the file at {@code path} if it is still the one we created; another server's stays. */
    static void removeIfOurs(Path path, Object identity) {
        if (identity == null || !identity.equals(identity(path))) {
            LOG.debug("unix:{}: not removed, it is no longer the socket file this server created", path);
            return;
        }
        int errno = UnixSockets.unlink(path);
        if (errno != 0 && errno != Sockets.ENOENT) {
            LOG.warn("unix:{}: could not remove the socket file: {}", path, Native.errnoName(errno));
        }
    }

    /**
     * What is at {@code path} (links followed, as connect follows them) if it exists and is not a
     * socket: "a regular file", "a directory", "a FIFO", "a device", or null (a socket, nothing, or unknown).
     */
    static String kindIfNotSocket(Path path) {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
        switch (mode & S_IFMT) {
            case S_IFSOCK:
                return null;
            case 0100000:
                return "a regular file";
            case 0040000:
                return "a directory";
            case 0010000:
                return "a FIFO";
            default:
                return "a device";
        }
    }

    private static Integer mode(Path path) {
        try {
            return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // No "unix" attribute view: sockets are "other" files; fall back on that.
            try {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                return a.isOther() ? S_IFSOCK : 0100000;
            } catch (NoSuchFileException gone) {
                return null;
            } catch (IOException io) {
                return 0;
            }
        } catch (IOException e) {
            return 0;
        }
    }

    /** Connects to the socket file and hangs up: 0 if a server accepted, else the errno. */
    private static int probe(Path path) {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
        int fd = Sockets.open(address);
        try {
            return Sockets.connect(fd, address);
        } finally {
            Native.closeQuietly(fd);
        }
    }
}
