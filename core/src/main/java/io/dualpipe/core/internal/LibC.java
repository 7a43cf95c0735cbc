package io.dualpipe.core.internal;

import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.Variadic;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls the core needs, bound through jnr-ffi. Buffers are passed as raw addresses
 * ({@code long}) so the hot path allocates nothing and never copies through jnr-ffi's heap-array
 * strategies; callers own the memory behind every address for the duration of the call.
 *
 * <p>Variadic C functions ({@code fcntl(int, int, ...)}) carry {@link Variadic}: on ABIs that pass
 * variadic arguments differently from fixed ones (arm64 macOS puts them on the stack), a binding
 * declared with fixed parameters only would hand the callee garbage. jnr-ffi then calls through
 * libffi's variadic call interface, a reflective invoker a little slower than its asm stubs: fine
 * for these calls, which set an fd up and are not made per message.
 */
public interface LibC {
    @ssize_t long read(int fd, @size_t long address, @size_t long count);

    @ssize_t long write(int fd, @size_t long address, @size_t long count);

    int close(int fd);

    int shutdown(int fd, int how);

    @Variadic(fixedCount = 2)
    int fcntl(int fd, int cmd, int arg);

    int pipe2(int[] fds, int flags);

    // Linux only: bound lazily by name; calling one elsewhere raises UnsatisfiedLinkError.
    int epoll_create1(int flags);

    int epoll_ctl(int epfd, int op, int fd, @size_t long event);

    int epoll_wait(int epfd, @size_t long events, int maxevents, int timeout);

    int eventfd(int initval, int flags);

    @IgnoreError
    String strerror(int errnum);
}
