package io.dualpipe.process.internal;

import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import io.dualpipe.core.internal.CFunction;

/**
 * The libc calls process spawning needs, bound through jffi ({@link CFunction}) rather than
 * jnr-posix (whose posix_spawnp hides the error code, whose signal-mask attribute throws, and whose
 * pipe has no O_CLOEXEC) or a jnr-ffi interface (whose ASM-generated implementation cost most of a
 * cold start, issue 11).
 *
 * <p>Every pointer is a raw address ({@code long}) into memory the caller allocated, so a spawn
 * marshals nothing. The posix_spawn family returns its error number as the result and leaves errno
 * alone, so those bindings do not save errno (a thread-local store saved per call); the others do.
 * Optional symbols ({@code *_np}, macOS-only ones) are bound like the others and throw
 * {@link UnsatisfiedLinkError} when called where libc lacks them; {@link Posix} probes their presence
 * at class load so callers never reach such a binding.
 *
 * <p>Variadic C functions ({@code fcntl}, {@code open}, {@code syscall}) are bound with the count of
 * their fixed parameters, as jnr-posix declares them: arm64 macOS passes variadic arguments on the
 * stack, so a binding that declared them as fixed would pass garbage there.
 *
 * <p>Thread-safe: stateless bindings; errno is saved per thread.
 */
public final class PosixLib {
    private static final MemoryIO MEM = MemoryIO.getInstance();
    private static final Type I = Type.SINT32;
    private static final Type SIZE = Type.ULONG;
    private static final Type PTR = Type.POINTER;

    private final Library libc;
    private final CFunction posixSpawnp;
    private final CFunction fileActionsInit;
    private final CFunction fileActionsDestroy;
    private final CFunction fileActionsAdddup2;
    private final CFunction fileActionsAddclose;
    private final CFunction fileActionsAddopen;
    private final CFunction fileActionsAddclosefromNp;
    private final CFunction fileActionsAddchdirNp;
    private final CFunction fileActionsAddinheritNp;
    private final CFunction spawnattrInit;
    private final CFunction spawnattrDestroy;
    private final CFunction spawnattrSetflags;
    private final CFunction spawnattrSetsigmask;
    private final CFunction spawnattrSetsigdefault;
    private final CFunction spawnattrSetpgroup;
    private final CFunction sigemptyset;
    private final CFunction sigfillset;
    private final CFunction posixOpenpt;
    private final CFunction grantpt;
    private final CFunction unlockpt;
    private final CFunction ptsnameR;
    private final CFunction tcgetattr;
    private final CFunction tcsetattr;
    private final CFunction pipe2;
    private final CFunction fcntl;
    private final CFunction open;
    private final CFunction close;
    private final CFunction waitpid;
    private final CFunction kill;
    private final CFunction killpg;
    private final CFunction syscall;
    private final CFunction signal;
    private final CFunction sigaction;
    private final CFunction nsGetEnviron;

    PosixLib(Library libc) {
        this.libc = libc;
        posixSpawnp = spawn("posix_spawnp", SIZE, SIZE, SIZE, SIZE, SIZE, PTR);
        fileActionsInit = spawn("posix_spawn_file_actions_init", SIZE);
        fileActionsDestroy = spawn("posix_spawn_file_actions_destroy", SIZE);
        fileActionsAdddup2 = spawn("posix_spawn_file_actions_adddup2", SIZE, I, I);
        fileActionsAddclose = spawn("posix_spawn_file_actions_addclose", SIZE, I);
        fileActionsAddopen = spawn("posix_spawn_file_actions_addopen", SIZE, I, SIZE, I, I);
        fileActionsAddclosefromNp = spawn("posix_spawn_file_actions_addclosefrom_np", SIZE, I); // glibc >= 2.34, FreeBSD >= 13.1
        fileActionsAddchdirNp = spawn("posix_spawn_file_actions_addchdir_np", SIZE, SIZE);  // glibc >= 2.29, macOS >= 10.15
        fileActionsAddinheritNp = spawn("posix_spawn_file_actions_addinherit_np", SIZE, I);  // macOS only
        spawnattrInit = spawn("posix_spawnattr_init", SIZE);
        spawnattrDestroy = spawn("posix_spawnattr_destroy", SIZE);
        spawnattrSetflags = spawn("posix_spawnattr_setflags", SIZE, Type.SINT16);
        spawnattrSetsigmask = spawn("posix_spawnattr_setsigmask", SIZE, SIZE);
        spawnattrSetsigdefault = spawn("posix_spawnattr_setsigdefault", SIZE, SIZE);
        spawnattrSetpgroup = spawn("posix_spawnattr_setpgroup", SIZE, I);
        sigemptyset = spawn("sigemptyset", SIZE);
        sigfillset = spawn("sigfillset", SIZE);
        posixOpenpt = errno("posix_openpt", I, I);
        grantpt = errno("grantpt", I, I);
        unlockpt = errno("unlockpt", I, I);
        ptsnameR = errno("ptsname_r", I, I, SIZE, SIZE);
        tcgetattr = errno("tcgetattr", I, I, SIZE);
        tcsetattr = errno("tcsetattr", I, I, I, SIZE);
        pipe2 = errno("pipe2", I, SIZE, I);
        fcntl = CFunction.bindVariadic(libc, "fcntl", 2, true, I, I, I, I);
        open = CFunction.bindVariadic(libc, "open", 2, true, I, SIZE, I, I);
        close = errno("close", I, I);
        waitpid = errno("waitpid", I, I, PTR, I);
        kill = errno("kill", I, I, I);
        killpg = errno("killpg", I, I, I);
        syscall = CFunction.bindVariadic(libc, "syscall", 1, true, Type.SINT64, Type.SINT64, Type.SINT64, Type.SINT64, Type.SINT64, Type.SINT64);
        signal = CFunction.bind(libc, "signal", false, SIZE, I, SIZE);
        sigaction = errno("sigaction", I, I, SIZE, SIZE);
        nsGetEnviron = CFunction.bind(libc, "_NSGetEnviron", false, SIZE);
    }

    /** A posix_spawn-family function: returns its error number, leaves errno alone. */
    private CFunction spawn(String name, Type... params) {
        return CFunction.bind(libc, name, false, I, params);
    }

    private CFunction errno(String name, Type result, Type... params) {
        return CFunction.bind(libc, name, true, result, params);
    }

    /** The bindings, for tests that check their declarations (variadic functions and their fixed counts). */
    CFunction[] functions() {
        return new CFunction[] {posixSpawnp, fileActionsInit, fileActionsDestroy, fileActionsAdddup2, fileActionsAddclose,
            fileActionsAddopen, fileActionsAddclosefromNp, fileActionsAddchdirNp, fileActionsAddinheritNp, spawnattrInit,
            spawnattrDestroy, spawnattrSetflags, spawnattrSetsigmask, spawnattrSetsigdefault, spawnattrSetpgroup, sigemptyset,
            sigfillset, posixOpenpt, grantpt, unlockpt, ptsnameR, tcgetattr, tcsetattr, pipe2, fcntl, open, close, waitpid, kill,
            killpg, syscall, signal, sigaction, nsGetEnviron};
    }

    /**
     * All six arguments go through jffi's invoker, which passes them right (jnr-ffi 2.2.17's x86_64
     * asm stubs once loaded the 6th from the wrong stack slot, and execve got a garbage envp).
     */
    int posix_spawnp(long pidOut, long file, long fileActions, long attr, long argv, long envp) {
        return (int) posixSpawnp.call(pidOut, file, fileActions, attr, argv, envp);
    }

    int posix_spawn_file_actions_init(long fileActions) {
        return (int) fileActionsInit.call(fileActions);
    }

    int posix_spawn_file_actions_destroy(long fileActions) {
        return (int) fileActionsDestroy.call(fileActions);
    }

    int posix_spawn_file_actions_adddup2(long fileActions, int fd, int newFd) {
        return (int) fileActionsAdddup2.call(fileActions, fd, newFd);
    }

    int posix_spawn_file_actions_addclose(long fileActions, int fd) {
        return (int) fileActionsAddclose.call(fileActions, fd);
    }

    int posix_spawn_file_actions_addopen(long fileActions, int fd, long path, int oflag, int mode) {
        return (int) fileActionsAddopen.call(fileActions, fd, path, oflag, mode);
    }

    int posix_spawn_file_actions_addclosefrom_np(long fileActions, int lowFd) {
        return (int) fileActionsAddclosefromNp.call(fileActions, lowFd);
    }

    int posix_spawn_file_actions_addchdir_np(long fileActions, long path) {
        return (int) fileActionsAddchdirNp.call(fileActions, path);
    }

    /** macOS only: keeps fd open in the child despite POSIX_SPAWN_CLOEXEC_DEFAULT. */
    int posix_spawn_file_actions_addinherit_np(long fileActions, int fd) {
        return (int) fileActionsAddinheritNp.call(fileActions, fd);
    }

    int posix_spawnattr_init(long attr) {
        return (int) spawnattrInit.call(attr);
    }

    int posix_spawnattr_destroy(long attr) {
        return (int) spawnattrDestroy.call(attr);
    }

    int posix_spawnattr_setflags(long attr, short flags) {
        return (int) spawnattrSetflags.call(attr, flags);
    }

    int posix_spawnattr_setsigmask(long attr, long sigset) {
        return (int) spawnattrSetsigmask.call(attr, sigset);
    }

    int posix_spawnattr_setsigdefault(long attr, long sigset) {
        return (int) spawnattrSetsigdefault.call(attr, sigset);
    }

    int posix_spawnattr_setpgroup(long attr, int pgroup) {
        return (int) spawnattrSetpgroup.call(attr, pgroup);
    }

    int sigemptyset(long sigset) {
        return (int) sigemptyset.call(sigset);
    }

    int sigfillset(long sigset) {
        return (int) sigfillset.call(sigset);
    }

    // ---- pseudo-terminals (PseudoTerminal; bound for Linux, the only platform that uses them) ----

    int posix_openpt(int flags) {
        return (int) posixOpenpt.call(flags);
    }

    int grantpt(int fd) {
        return (int) grantpt.call(fd);
    }

    int unlockpt(int fd) {
        return (int) unlockpt.call(fd);
    }

    /** Returns 0, or an error number (glibc also sets errno). */
    int ptsname_r(int fd, long buf, long buflen) {
        return (int) ptsnameR.call(fd, buf, buflen);
    }

    /** termios: address of a buffer at least as large as the libc's struct termios. */
    int tcgetattr(int fd, long termios) {
        return (int) tcgetattr.call(fd, termios);
    }

    int tcsetattr(int fd, int optionalActions, long termios) {
        return (int) tcsetattr.call(fd, optionalActions, termios);
    }

    /** fds: address of an int[2]. */
    int pipe2(long fds, int flags) {
        return (int) pipe2.call(fds, flags);
    }

    int fcntl(int fd, int cmd, int arg) {
        return (int) fcntl.call(fd, cmd, arg);
    }

    int open(long path, int flags, int mode) {
        return (int) open.call(path, flags, mode);
    }

    int close(int fd) {
        return (int) close.call(fd);
    }

    /** status receives the wait status (status[0]) when the call returns a pid; it is not read. */
    int waitpid(int pid, int[] status, int options) {
        long mem = MEM.allocateMemory(4, true);
        if (mem == 0) { // waitpid would write the status to address 0
            throw new OutOfMemoryError("malloc(4) for waitpid");
        }
        try {
            int rc = (int) waitpid.call(pid, mem, options);
            status[0] = MEM.getInt(mem);
            return rc;
        } finally {
            MEM.freeMemory(mem);
        }
    }

    int kill(int pid, int sig) {
        return (int) kill.call(pid, sig);
    }

    int killpg(int pgrp, int sig) {
        return (int) killpg.call(pgrp, sig);
    }

    /** Raw syscall; unused trailing arguments are passed as 0 (harmless for the kernel). */
    long syscall(long number, long a1, long a2, long a3, long a4) {
        return syscall.call(number, a1, a2, a3, a4);
    }

    /** Returns the previous handler; handler 0 is SIG_DFL. */
    long signal(int sig, long handler) {
        return signal.call(sig, handler);
    }

    /** Used only to read the current disposition (act = 0). */
    int sigaction(int sig, long act, long oldAct) {
        return (int) sigaction.call(sig, act, oldAct);
    }

    /** macOS only: {@code char ***}, the address of the {@code environ} variable. */
    long _NSGetEnviron() {
        return nsGetEnviron.call();
    }
}
