package io.dualpipe.process.internal;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls {@link LimitTrampoline} needs beyond {@link PosixLib}: reading the JVM's own limits,
 * and a blocking pipe whose end the parent reads the trampoline's report from.
 *
 * <p>Thread-safe: stateless bindings; errno is saved per thread by jnr-ffi.
 */
public interface LimitLib {
    LimitLib LIB = LibraryLoader.create(LimitLib.class).load(Platform.getNativePlatform().getStandardCLibraryName());

    /** {@code rlim} receives {rlim_cur, rlim_max}; rlim_t is 64 bits on every platform we run on. */
    int getrlimit(int resource, @Out long[] rlim);

    int pipe2(@Out int[] fds, int flags);

    @ssize_t long read(int fd, @Out byte[] buf, @size_t long count);
}
