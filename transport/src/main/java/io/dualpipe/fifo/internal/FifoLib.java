package io.dualpipe.fifo.internal;

import jnr.ffi.annotations.In;
import jnr.ffi.types.mode_t;

/**
 * The libc calls FIFOs need, bound through jnr-ffi. jnr-posix has both, but loading it costs
 * 150-400 ms on first use, and that first use could land on a loop thread; this binding loads in a
 * few ms once jnr-ffi is up (the core has already started it).
 *
 * <p>Paths are NUL-terminated byte arrays the caller encodes (see {@link FifoNative#cPath}), so the
 * bytes match what the JDK's own file APIs pass for the same {@link java.nio.file.Path}.
 *
 * <p>Thread-safe: stateless bindings; jnr-ffi saves errno per thread after each call.
 */
public interface FifoLib {
    /**
     * Bound without the variadic mode argument: it is read only with O_CREAT, which we never pass,
     * and leaving it out keeps the call correct on ABIs that pass variadic arguments differently
     * (arm64 macOS).
     */
    int open(@In byte[] path, int flags);

    int mkfifo(@In byte[] path, @mode_t int mode);

    /** On an fd opened with O_NOFOLLOW: the mode lands on the FIFO itself, never a symlink's target. */
    int fchmod(int fd, @mode_t int mode);

    int geteuid();
}
