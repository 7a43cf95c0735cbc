package io.dualpipe.process.internal;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.Variadic;
import jnr.ffi.types.size_t;

/**
 * The libc calls process spawning needs that jnr-posix lacks or gets wrong (its posix_spawnp hides
 * the error code, its signal-mask attribute throws, its pipe has no O_CLOEXEC).
 *
 * <p>Every pointer is a raw address ({@code @size_t long}) into memory the caller allocated, so a
 * spawn marshals nothing through jnr-ffi's per-call heap copies. The posix_spawn family returns its
 * error number as the result and leaves errno alone, hence {@code @IgnoreError} (saves a
 * thread-local store per call). Optional symbols ({@code *_np}, macOS-only ones) are bound like the
 * others: jnr-ffi generates a stub that throws {@link UnsatisfiedLinkError} for a missing symbol,
 * and {@link Posix} probes their presence at class load so callers never reach such a stub.
 *
 * <p>Variadic C functions ({@code fcntl}, {@code open}, {@code syscall}) carry {@link Variadic}
 * with the count of their fixed parameters, as jnr-posix declares them: arm64 macOS passes variadic
 * arguments on the stack, so a binding that declared them as fixed would pass garbage there.
 *
 * <p>Thread-safe: stateless bindings; errno is saved per thread by jnr-ffi.
 */
public interface PosixLib {
    /**
     * envp is a {@link Pointer} on purpose: jnr-ffi 2.2.17's x86_64 asm stubs (used when every
     * parameter is primitive) load the 6th integer argument from the wrong stack slot (the return
     * address), so execve received a garbage envp and failed with EFAULT. One object parameter
     * makes jnr-ffi pick its jffi "fast long" invoker instead, which passes all six correctly.
     */
    @IgnoreError
    int posix_spawnp(@size_t long pidOut, @size_t long file, @size_t long fileActions, @size_t long attr,
                     @size_t long argv, Pointer envp);

    @IgnoreError
    int posix_spawn_file_actions_init(@size_t long fileActions);

    @IgnoreError
    int posix_spawn_file_actions_destroy(@size_t long fileActions);

    @IgnoreError
    int posix_spawn_file_actions_adddup2(@size_t long fileActions, int fd, int newFd);

    @IgnoreError
    int posix_spawn_file_actions_addclose(@size_t long fileActions, int fd);

    @IgnoreError
    int posix_spawn_file_actions_addopen(@size_t long fileActions, int fd, @size_t long path, int oflag, int mode);

    /** glibc >= 2.34, FreeBSD >= 13.1; absent on macOS. */
    @IgnoreError
    int posix_spawn_file_actions_addclosefrom_np(@size_t long fileActions, int lowFd);

    /** glibc >= 2.29, macOS >= 10.15 (as a deprecated alias), FreeBSD >= 13.1. */
    @IgnoreError
    int posix_spawn_file_actions_addchdir_np(@size_t long fileActions, @size_t long path);

    /** macOS only: keeps fd open in the child despite POSIX_SPAWN_CLOEXEC_DEFAULT. */
    @IgnoreError
    int posix_spawn_file_actions_addinherit_np(@size_t long fileActions, int fd);

    @IgnoreError
    int posix_spawnattr_init(@size_t long attr);

    @IgnoreError
    int posix_spawnattr_destroy(@size_t long attr);

    @IgnoreError
    int posix_spawnattr_setflags(@size_t long attr, short flags);

    @IgnoreError
    int posix_spawnattr_setsigmask(@size_t long attr, @size_t long sigset);

    @IgnoreError
    int posix_spawnattr_setsigdefault(@size_t long attr, @size_t long sigset);

    @IgnoreError
    int posix_spawnattr_setpgroup(@size_t long attr, int pgroup);

    @IgnoreError
    int sigemptyset(@size_t long sigset);

    @IgnoreError
    int sigfillset(@size_t long sigset);

    // ---- pseudo-terminals (PseudoTerminal; bound for Linux, the only platform that uses them) ----

    int posix_openpt(int flags);

    int grantpt(int fd);

    int unlockpt(int fd);

    /** Returns 0, or an error number (glibc also sets errno). */
    int ptsname_r(int fd, @size_t long buf, @size_t long buflen);

    /** termios: address of a buffer at least as large as the libc's struct termios. */
    int tcgetattr(int fd, @size_t long termios);

    int tcsetattr(int fd, int optionalActions, @size_t long termios);

    /** fds: address of an int[2]. */
    int pipe2(@size_t long fds, int flags);

    @Variadic(fixedCount = 2)
    int fcntl(int fd, int cmd, int arg);

    @Variadic(fixedCount = 2)
    int open(@size_t long path, int flags, int mode);

    int close(int fd);

    int waitpid(int pid, @Out int[] status, int options);

    int kill(int pid, int sig);

    int killpg(int pgrp, int sig);

    /** Raw syscall; unused trailing arguments are passed as 0 (harmless for the kernel). */
    @Variadic(fixedCount = 1)
    long syscall(long number, long a1, long a2, long a3, long a4);

    /** Returns the previous handler; handler 0 is SIG_DFL. */
    @IgnoreError
    @size_t long signal(int sig, @size_t long handler);

    /** Used only to read the current disposition (act = 0). */
    int sigaction(int sig, @size_t long act, @size_t long oldAct);

    /** macOS only: {@code char ***}, the address of the {@code environ} variable. */
    @IgnoreError
    @size_t long _NSGetEnviron();
}
