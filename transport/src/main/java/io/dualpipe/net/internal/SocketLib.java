package io.dualpipe.net.internal;

import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;

/**
 * The libc socket calls the transport makes itself, bound through jnr-ffi, so that every socket is a
 * plain fd the loop's selector serves. What jnr-unixsocket does well is not repeated here: the
 * {@code sockaddr_un} layout, bind and connect of Unix sockets, and SO_PEERCRED (see {@link Sockets}).
 * What it does badly for a loop (its channels' accept, read, write and close) is done with these.
 *
 * <p>Only calls every supported OS has are in this interface; {@link Linux} and {@link Darwin} hold
 * the rest, each loaded only on its own OS.
 *
 * <p>TCP addresses are {@code sockaddr} structures built by hand in byte arrays (copied in and out by
 * jnr-ffi: these calls are not on the per-message path). Accept passes no address at all, so the
 * accept path marshals nothing.
 *
 * <p>Thread-safe: stateless bindings; errno is saved per thread by jnr-ffi.
 */
public interface SocketLib {
    int socket(int domain, int type, int protocol);

    int bind(int fd, @In byte[] addr, int addrLen);

    int listen(int fd, int backlog);

    /** addr and addrLen are 0 (NULL). Where accept4 is missing (macOS): flags are then set with fcntl. */
    int accept(int fd, @size_t long addr, @size_t long addrLen);

    int connect(int fd, @In byte[] addr, int addrLen);

    int getsockopt(int fd, int level, int name, @Out byte[] value, @In @Out int[] len);

    int setsockopt(int fd, int level, int name, @In byte[] value, int len);

    int getsockname(int fd, @Out byte[] addr, @In @Out int[] len);

    int getpeername(int fd, @Out byte[] addr, @In @Out int[] len);

    /** path: NUL-terminated bytes. */
    int unlink(@In byte[] path);

    /** path: NUL-terminated bytes. Follows a symbolic link: only for where fchmodat cannot do without. */
    int chmod(@In byte[] path, int mode);

    /**
     * path: NUL-terminated bytes. With AT_SYMLINK_NOFOLLOW a symbolic link at path is never followed
     * (glibc >= 2.32 refuses one with EOPNOTSUPP; older glibc refuses the flag itself with ENOTSUP).
     */
    int fchmodat(int dirFd, @In byte[] path, int mode, int flags);

    int geteuid();

    /** Linux only. */
    interface Linux {
        /** addr and addrLen are 0 (NULL): the peer is asked for separately when needed. */
        int accept4(int fd, @size_t long addr, @size_t long addrLen, int flags);
    }

    /** macOS only: jnr-unixsocket's SO_PEERCRED has no macOS counterpart in jnr-constants. */
    interface Darwin {
        /** The effective uid and gid of a Unix socket's peer, as when it connected. */
        int getpeereid(int fd, @Out int[] uid, @Out int[] gid);
    }
}
