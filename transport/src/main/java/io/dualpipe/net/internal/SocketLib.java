package io.dualpipe.net.internal;

import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;

/**
 * The libc socket calls the transport makes itself, bound through jnr-ffi, so that every socket is a
 * plain fd the loop's epoll selector serves (jnr-unixsocket's channels accept, read and write in
 * ways a loop cannot use; JDK channels cannot join our selector).
 *
 * <p>Addresses are {@code sockaddr} structures built by hand in byte arrays (copied in and out by
 * jnr-ffi: these calls are not on the per-message path). {@code accept4} passes no address at all,
 * so the accept path marshals nothing.
 *
 * <p>Thread-safe: stateless bindings; errno is saved per thread by jnr-ffi.
 */
public interface SocketLib {
    int socket(int domain, int type, int protocol);

    int bind(int fd, @In byte[] addr, int addrLen);

    int listen(int fd, int backlog);

    /** addr and addrLen are 0 (NULL): the peer is asked for separately when needed. */
    int accept4(int fd, @size_t long addr, @size_t long addrLen, int flags);

    int connect(int fd, @In byte[] addr, int addrLen);

    int getsockopt(int fd, int level, int name, @Out byte[] value, @In @Out int[] len);

    int setsockopt(int fd, int level, int name, @In byte[] value, int len);

    int getsockname(int fd, @Out byte[] addr, @In @Out int[] len);

    int getpeername(int fd, @Out byte[] addr, @In @Out int[] len);

    /** path: NUL-terminated bytes. */
    int unlink(@In byte[] path);

    /** path: NUL-terminated bytes. */
    int chmod(@In byte[] path, int mode);
}
