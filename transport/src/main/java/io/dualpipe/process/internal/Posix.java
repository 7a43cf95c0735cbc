package io.dualpipe.process.internal;

import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Platform;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.Native;
import jnr.constants.platform.OpenFlags;
import jnr.constants.platform.Signal;

/**
 * Loads {@link PosixLib} once, probes which optional symbols this libc has, and holds the
 * per-platform constants that jnr-constants does not know (posix_spawn flags, Linux fcntl
 * commands, syscall numbers).
 *
 * <p>Class initialisation also repairs one inherited hazard: a JVM started with SIGCHLD ignored
 * (e.g. by a parent that set SIG_IGN before exec) gets its children auto-reaped by the kernel, so
 * waitpid fails with ECHILD and every exit status is lost. The JDK repairs it the same way, but
 * only on first ProcessBuilder use, which may never happen.
 *
 * <p>Thread-safe: everything is final after class initialisation.
 */
final class Posix {
    private static final LazyLogger LOG = new LazyLogger(Posix.class);

    // jffi's view of the platform (jnr-ffi's Platform and jar stay unloaded on the way to a child)
    static final Platform.OS OS = Native.OS;
    static final boolean LINUX = OS == Platform.OS.LINUX;
    static final boolean DARWIN = OS == Platform.OS.DARWIN;
    static final boolean FREEBSD = OS == Platform.OS.FREEBSD;

    static final PosixLib LIB = new PosixLib(Native.LIBC_LIBRARY);
    static final MemoryIO MEM = MemoryIO.getInstance();
    /** Bytes in a pointer. */
    static final int ADDRESS_SIZE = Platform.getPlatform().addressSize() / 8;
    private static final com.kenai.jffi.Library LIBC_HANDLE = com.kenai.jffi.Library.getDefault();

    static final boolean HAS_ADDCLOSEFROM = hasSymbol("posix_spawn_file_actions_addclosefrom_np");
    static final boolean HAS_ADDCHDIR = hasSymbol("posix_spawn_file_actions_addchdir_np");
    static final boolean HAS_ADDINHERIT = hasSymbol("posix_spawn_file_actions_addinherit_np");

    // posix_spawnattr flags: Linux (glibc, musl) and macOS share these values; FreeBSD numbers them
    // differently, so hard-coding the Linux ones there would silently set the wrong attributes.
    static final short POSIX_SPAWN_SETPGROUP = 0x02;
    static final short POSIX_SPAWN_SETSIGDEF = (short) (FREEBSD ? 0x10 : 0x04);
    static final short POSIX_SPAWN_SETSIGMASK = (short) (FREEBSD ? 0x20 : 0x08);
    static final short POSIX_SPAWN_CLOEXEC_DEFAULT = 0x4000; // macOS only
    /** glibc >= 2.26 and musl (older glibc rejects the flag with EINVAL); used on Linux only. */
    static final short POSIX_SPAWN_SETSID = 0x80;
    static final boolean SPAWN_FLAGS_KNOWN = LINUX || DARWIN || FREEBSD;

    static final int O_RDONLY = OpenFlags.O_RDONLY.intValue();
    static final int O_WRONLY = OpenFlags.O_WRONLY.intValue();
    static final int O_RDWR = OpenFlags.O_RDWR.intValue();
    static final int O_NOCTTY = OpenFlags.O_NOCTTY.intValue();
    static final int O_CREAT = OpenFlags.O_CREAT.intValue();
    static final int O_APPEND = OpenFlags.O_APPEND.intValue();
    static final int O_TRUNC = OpenFlags.O_TRUNC.intValue();
    static final int O_CLOEXEC = Native.O_CLOEXEC;
    static final int O_NONBLOCK = Native.O_NONBLOCK;
    static final int F_SETFL = Native.F_SETFL;
    static final int F_GETFD = Native.F_GETFD;
    static final int FD_CLOEXEC = Native.FD_CLOEXEC;
    static final int F_DUPFD_CLOEXEC = LINUX ? 1030 : DARWIN ? 67 : FREEBSD ? 17 : -1;
    static final int F_SETPIPE_SZ = 1031; // Linux only
    static final int F_GETPIPE_SZ = 1032; // Linux only
    static final int WNOHANG = 1; // same on Linux, macOS, FreeBSD

    // Linux struct termios (glibc and musl share it: four tcflag_t, c_line, c_cc[32], two speeds;
    // 60 bytes). Only used where LINUX; other layouts differ and are not worked out.
    static final int TERMIOS_SIZE = 256; // generous
    static final int TERMIOS_OFLAG = 4;
    static final int TERMIOS_LFLAG = 12;
    static final int TERMIOS_CC = 17;
    static final int VEOF = 4;
    static final int ECHO = 0x8;
    static final int ECHONL = 0x40;
    static final int ONLCR = 0x4;
    static final int TCSANOW = 0;

    // pidfd syscalls were numbered uniformly across architectures from Linux 5.1 on (alpha aside);
    // restricting to the two we can test keeps a wrong guess from calling an unrelated syscall.
    static final boolean PIDFD_SYSCALLS = LINUX && (Platform.getPlatform().getCPU() == Platform.CPU.X86_64
            || Platform.getPlatform().getCPU() == Platform.CPU.AARCH64);
    static final long SYS_PIDFD_OPEN = 434;
    static final long SYS_PIDFD_SEND_SIGNAL = 424;

    /** Address of libc's {@code char **environ} variable, 0 when not found (then see DARWIN). */
    private static final long ENVIRON_SYMBOL = DARWIN ? 0 : LIBC_HANDLE.getSymbolAddress("environ");

    static {
        // Nothing is logged here unless something is wrong: a first log call starts the SLF4J
        // provider, which a cold start must not pay for (issue 11).
        resetIgnoredSigchld();
    }

    private Posix() {
    }

    private static boolean hasSymbol(String name) {
        return LIBC_HANDLE.getSymbolAddress(name) != 0;
    }

    /**
     * The parent's current environment block, read at every spawn because native code may
     * setenv() and move it. 0 when it cannot be found (callers then build one from System.getenv()).
     */
    static long currentEnviron() {
        if (DARWIN) {
            long environVar = LIB._NSGetEnviron();
            return environVar == 0 ? 0 : MEM.getAddress(environVar);
        }
        return ENVIRON_SYMBOL == 0 ? 0 : MEM.getAddress(ENVIRON_SYMBOL);
    }

    /**
     * Resets SIGCHLD to SIG_DFL only when it is SIG_IGN: an installed handler belongs to someone
     * (another native library) and replacing it would break them. Reads the disposition with
     * sigaction (whose first member is the handler on Linux, macOS and FreeBSD) rather than a
     * signal() round trip, which would briefly drop that handler.
     */
    private static void resetIgnoredSigchld() {
        int sigchld = Signal.SIGCHLD.intValue();
        long buf = MEM.allocateMemory(1024, true); // struct sigaction is 152 bytes on glibc
        if (buf == 0) {
            throw new OutOfMemoryError("malloc(1024) for sigaction");
        }
        try {
            if (LIB.sigaction(sigchld, 0, buf) != 0) {
                LOG.get().warn("sigaction(SIGCHLD) query failed: errno {}", Native.errnoName(Native.errno()));
                return;
            }
            long handler = MEM.getAddress(buf);
            if (handler == 1 /* SIG_IGN */) {
                LIB.signal(sigchld, 0 /* SIG_DFL */);
                LOG.get().debug("SIGCHLD was ignored (exit statuses would be lost); reset to SIG_DFL");
            }
        } finally {
            MEM.freeMemory(buf);
        }
    }
}
