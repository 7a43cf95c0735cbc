package io.dualpipe.process.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.process.SpawnException;
import jnr.constants.platform.Errno;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.util.Arrays;
import java.util.Map;

import static io.dualpipe.process.internal.Posix.LIB;
import static io.dualpipe.process.internal.Posix.MEM;

/**
 * Starts child processes with libc's posix_spawnp (never a fork of the JVM: glibc implements it
 * with clone(CLONE_VM|CLONE_VFORK), so the cost does not grow with the heap).
 *
 * <p>Descriptor hygiene, in order of defence: every pipe is created O_CLOEXEC so no other child
 * spawned concurrently (by us or by the JDK) inherits it; the child's ends are dup2'ed onto
 * 0, 1, 2, 3, ... by file actions (dup2 clears CLOEXEC on the copy); then the child closes every
 * other descriptor, because the JVM and libraries hold plenty without CLOEXEC (class-path jars,
 * jnr-posix pipes). See {@link CloseStrategy} for how that last step is done per platform. The
 * parent closes the child's ends right after posix_spawnp returns, whatever it returned.
 *
 * <p>The child starts with an empty signal mask and every signal at its default disposition: the
 * spawning thread's mask (the JVM blocks some signals on its threads) and the JVM's ignored
 * signals would otherwise leak into it.
 *
 * <p>Thread-safe: each call works on its own malloc'd block (about 3 KiB plus the argument
 * strings) and shares only immutable state, so spawns may run concurrently from any threads.
 */
public final class Spawner {
    private static final Logger LOG = LoggerFactory.getLogger(Spawner.class);

    /** How the child gets rid of descriptors it must not inherit. */
    enum CloseStrategy {
        /** posix_spawn_file_actions_addclosefrom_np(first unmapped fd): glibc >= 2.34, FreeBSD >= 13.1. */
        CLOSEFROM,
        /** macOS: POSIX_SPAWN_CLOEXEC_DEFAULT closes every fd not named by a file action. */
        CLOEXEC_DEFAULT,
        /**
         * Linux with an older glibc: scan /proc/self/fd at each spawn and add a close action for
         * every fd at or above the first unmapped one that lacks FD_CLOEXEC. Slower, and an fd
         * opened without CLOEXEC by another thread between the scan and the spawn still leaks.
         */
        PROC_SCAN,
        /** Anything else: rely on FD_CLOEXEC alone; descriptors others opened without it leak. */
        NONE
    }

    static final CloseStrategy DEFAULT_CLOSE_STRATEGY = Posix.HAS_ADDCLOSEFROM ? CloseStrategy.CLOSEFROM
            : Posix.DARWIN ? CloseStrategy.CLOEXEC_DEFAULT
            : Posix.LINUX && new File("/proc/self/fd").isDirectory() ? CloseStrategy.PROC_SCAN
            : CloseStrategy.NONE;

    private static final int ENOENT = Errno.ENOENT.intValue();
    private static final int EACCES = Errno.EACCES.intValue();
    private static final int ENOTDIR = Errno.ENOTDIR.intValue();
    private static final int ENOEXEC = Errno.ENOEXEC.intValue();
    private static final int ENOSYS = Errno.ENOSYS.intValue();
    private static final int EPERM = Errno.EPERM.intValue();
    private static final int EINVAL = Errno.EINVAL.intValue();

    private static final int PTR = Posix.RUNTIME.addressSize();
    private static final byte[] DEV_NULL = {'/', 'd', 'e', 'v', '/', 'n', 'u', 'l', 'l', 0};

    // Layout of the per-spawn native block. glibc needs 336 bytes for posix_spawnattr_t, 80 for
    // posix_spawn_file_actions_t and 128 for sigset_t; macOS only pointers. Sizes are generous so
    // no libc we do not test can overrun them.
    private static final int OFF_PID = 0;
    private static final int OFF_PIPE = 8;
    private static final int OFF_SIGSET_EMPTY = 64;
    private static final int OFF_SIGSET_FULL = OFF_SIGSET_EMPTY + 256;
    private static final int OFF_ATTR = OFF_SIGSET_FULL + 256;
    private static final int OFF_FILE_ACTIONS = OFF_ATTR + 1024;
    private static final int OFF_POINTERS = OFF_FILE_ACTIONS + 1024;
    // Appended to the block for a pseudo-terminal: struct termios, then the slave's path.
    private static final int PTS_NAME_MAX = 128;
    private static final int PTY_AREA = Posix.TERMIOS_SIZE + PTS_NAME_MAX;

    // pidfd_open support, learned from the first attempts: 0 = pass PIDFD_NONBLOCK (Linux >= 5.10),
    // 1 = no flags then fcntl (5.3..5.9 reject the flag with EINVAL), 2 = unavailable (ENOSYS,
    // EPERM from a seccomp filter, not Linux). Racy updates are benign: every value is a valid state.
    // -Ddualpipe.pidfd=false starts in mode 2: the polling exit watcher macOS uses, testable on Linux.
    private static volatile int pidfdMode = Posix.PIDFD_SYSCALLS && !"false".equals(System.getProperty("dualpipe.pidfd")) ? 0 : 2;

    static {
        if (DEFAULT_CLOSE_STRATEGY == CloseStrategy.PROC_SCAN || DEFAULT_CLOSE_STRATEGY == CloseStrategy.NONE) {
            LOG.warn("libc lacks posix_spawn_file_actions_addclosefrom_np; children are kept from inheriting "
                    + "descriptors by {}", DEFAULT_CLOSE_STRATEGY == CloseStrategy.PROC_SCAN
                    ? "scanning /proc/self/fd at each spawn (slower)" : "FD_CLOEXEC only (others' fds may leak)");
        }
    }

    private Spawner() {
    }

    /**
     * Starts {@code spec}. On return the child is running (its exec succeeded: glibc's
     * posix_spawnp reports exec failures synchronously), and the caller owns the returned fds and
     * must eventually reap the pid.
     *
     * @throws SpawnException when the child could not be started (no process exists then, and no
     *         descriptor was leaked)
     */
    public static Spawned spawn(SpawnSpec spec) {
        return spawn(spec, DEFAULT_CLOSE_STRATEGY);
    }

    private static final java.util.concurrent.atomic.AtomicBoolean PIPE_SIZE_IGNORED_LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

    /** A pipe size asked for where the kernel has no F_SETPIPE_SZ: said once, not on every spawn. */
    private static void notePipeSizeIgnored(int pipeSize) {
        if (pipeSize > 0 && !Posix.LINUX && PIPE_SIZE_IGNORED_LOGGED.compareAndSet(false, true)) {
            LOG.debug("pipeBufferSize {} ignored: {} has no F_SETPIPE_SZ", pipeSize, Posix.OS);
        }
    }

    /** Package-private so tests can exercise the fallback strategies on a libc that has closefrom. */
    static Spawned spawn(SpawnSpec spec, CloseStrategy closeStrategy) {
        InvalidArgumentException.requireNonNull("spec", spec);
        String program = spec.argv().get(0);
        if (!Posix.SPAWN_FLAGS_KNOWN) {
            throw new SpawnException("cannot start program '" + program + "': process spawning is not supported on "
                    + Posix.OS + " (ENOSYS)", program, ENOSYS, "ENOSYS");
        }
        if (spec.workingDirectory() != null) {
            checkWorkingDirectory(spec.workingDirectory(), program);
        }
        notePipeSizeIgnored(spec.pipeSize());
        boolean pty = spec.pseudoTerminal();
        if (pty && !Posix.LINUX) {
            // The termios layout, the controlling-terminal rules and EIO at the end are only worked
            // out (and tested) for Linux: fail by name rather than misconfigure a terminal.
            throw new SpawnException("cannot start program '" + program + "': pseudoTerminal(true) is supported on "
                    + "Linux only, not on " + Posix.OS + " (ENOSYS)", program, ENOSYS, "ENOSYS");
        }

        byte[][] envBytes = spec.envBytes;
        long environ = 0;
        if (envBytes == null) {
            environ = Posix.currentEnviron();
            if (environ == 0) {
                envBytes = systemEnvironment();
            }
        }

        int mapped = 3 + spec.extraPipes().size();
        int[] childFds = new int[mapped];
        int[] parentFds = new int[mapped];
        Arrays.fill(childFds, -1);
        Arrays.fill(parentFds, -1);

        int argc = spec.argvBytes.length;
        int envc = envBytes == null ? 0 : envBytes.length;
        int envStringBytes = 0;
        if (envBytes != null && envBytes != spec.envBytes) {
            for (byte[] e : envBytes) {
                envStringBytes += e.length;
            }
        }
        long argvPtrs = OFF_POINTERS;
        long envPtrs = argvPtrs + (long) PTR * (argc + 1);
        long strings = envPtrs + (envBytes == null ? 0 : (long) PTR * (envc + 1));
        long ptyArea = strings + spec.nativeStringBytes + envStringBytes + DEV_NULL.length;
        long size = ptyArea + (pty ? PTY_AREA : 0);

        long block = MEM.allocateMemory(size, false);
        if (block == 0) {
            throw new OutOfMemoryError("malloc(" + size + ") for posix_spawn arguments");
        }
        boolean fileActionsReady = false;
        boolean attrReady = false;
        boolean spawned = false;
        int pid = -1;
        int[] ptyFds = {-1, -1}; // master, and the parent's slave fd (for termios; closed after the spawn)
        byte ptyEof = 0;
        try {
            long fileActions = block + OFF_FILE_ACTIONS;
            long attr = block + OFF_ATTR;

            // argv/envp arrays and strings first; nothing here can fail.
            long cursor = block + strings;
            for (int i = 0; i < argc; i++) {
                MEM.putAddress(block + argvPtrs + (long) PTR * i, cursor);
                cursor = put(cursor, spec.argvBytes[i]);
            }
            MEM.putAddress(block + argvPtrs + (long) PTR * argc, 0);
            long envp = environ;
            if (envBytes != null) {
                envp = block + envPtrs;
                for (int i = 0; i < envc; i++) {
                    MEM.putAddress(envp + (long) PTR * i, cursor);
                    cursor = put(cursor, envBytes[i]);
                }
                MEM.putAddress(envp + (long) PTR * envc, 0);
            }
            long devNull = cursor;
            cursor = put(cursor, DEV_NULL);
            long cwd = 0;
            if (spec.cwdBytes != null) {
                cwd = cursor;
                cursor = put(cursor, spec.cwdBytes);
            }
            long stderrFile = 0;
            if (spec.stderrFileBytes != null) {
                stderrFile = cursor;
                cursor = put(cursor, spec.stderrFileBytes);
            }
            long stdinFile = 0;
            if (spec.stdinFileBytes != null) {
                stdinFile = cursor;
                cursor = put(cursor, spec.stdinFileBytes);
            }
            long stdoutFile = 0;
            if (spec.stdoutFileBytes != null) {
                stdoutFile = cursor;
                put(cursor, spec.stdoutFileBytes);
            }

            // Descriptors. Each is recorded in childFds/parentFds the moment it exists, so the
            // finally block can close it whatever fails next.
            long pipeScratch = block + OFF_PIPE;
            long ptsPath = 0;
            if (pty) {
                ptyEof = openTerminal(block + ptyArea, ptyFds, program);
                ptsPath = block + ptyArea + Posix.TERMIOS_SIZE;
            } else {
                switch (spec.stdin()) {
                    case PIPE -> makePipe(pipeScratch, 0, true, childFds, parentFds, spec, program);
                    case FROM_FILE -> childFds[0] = openFile(stdinFile, Posix.O_RDONLY | Posix.O_CLOEXEC,
                            "stdin file '" + spec.stdinFile() + "' for reading", program);
                    case FROM_FD -> childFds[0] = dupCallerFd(spec.stdinFd(), mapped, "stdin", program);
                    default -> { }
                }
                switch (spec.stdout()) {
                    case PIPE -> makePipe(pipeScratch, 1, false, childFds, parentFds, spec, program);
                    case TO_FILE -> childFds[1] = openFile(stdoutFile,
                            Posix.O_WRONLY | Posix.O_CREAT | Posix.O_TRUNC | Posix.O_CLOEXEC,
                            "stdout file '" + spec.stdoutFile() + "' for writing", program);
                    case APPEND_TO_FILE -> childFds[1] = openFile(stdoutFile,
                            Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND | Posix.O_CLOEXEC,
                            "stdout file '" + spec.stdoutFile() + "' for appending", program);
                    case TO_FD -> childFds[1] = dupCallerFd(spec.stdoutFd(), mapped, "stdout", program);
                    default -> { }
                }
            }
            if (spec.stderr() == SpawnSpec.Stderr.PIPE) {
                makePipe(pipeScratch, 2, false, childFds, parentFds, spec, program);
            } else if (spec.stderr() == SpawnSpec.Stderr.APPEND_TO_FILE) {
                childFds[2] = openFile(stderrFile, Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND | Posix.O_CLOEXEC,
                        "stderr file '" + spec.stderrFile() + "' for appending", program);
            }
            for (int i = 0; i < spec.extraPipes().size(); i++) {
                makePipe(pipeScratch, 3 + i, spec.extraPipes().get(i) == SpawnSpec.PipeDirection.CHILD_READS,
                        childFds, parentFds, spec, program);
            }
            moveAboveMapped(childFds, mapped, program);

            check(LIB.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init", program);
            fileActionsReady = true;
            if (pty) {
                // Opened by path in the child, after POSIX_SPAWN_SETSID made it a session leader
                // without a controlling terminal, and without O_NOCTTY: Linux then makes this
                // terminal its controlling one (a dup2 of our fd would not).
                check(LIB.posix_spawn_file_actions_addopen(fileActions, 0, ptsPath, Posix.O_RDWR, 0),
                        "posix_spawn_file_actions_addopen", program);
                check(LIB.posix_spawn_file_actions_adddup2(fileActions, 0, 1), "posix_spawn_file_actions_adddup2",
                        program);
            } else {
                addStdio(fileActions, 0, childFds[0], spec.stdin() == SpawnSpec.Stdin.NULL_DEVICE ? Posix.O_RDONLY : -1,
                        spec.stdin() == SpawnSpec.Stdin.INHERIT, devNull, closeStrategy, program);
                addStdio(fileActions, 1, childFds[1], spec.stdout() == SpawnSpec.Stdout.DISCARD ? Posix.O_WRONLY : -1,
                        spec.stdout() == SpawnSpec.Stdout.INHERIT, devNull, closeStrategy, program);
            }
            if (spec.stderr() == SpawnSpec.Stderr.MERGE_WITH_STDOUT) {
                // After fd 1 is in place, whatever it became (pipe, /dev/null or the inherited one).
                check(LIB.posix_spawn_file_actions_adddup2(fileActions, 1, 2), "posix_spawn_file_actions_adddup2", program);
            } else {
                addStdio(fileActions, 2, childFds[2], spec.stderr() == SpawnSpec.Stderr.DISCARD ? Posix.O_WRONLY : -1,
                        spec.stderr() == SpawnSpec.Stderr.INHERIT, devNull, closeStrategy, program);
            }
            for (int fd = 3; fd < mapped; fd++) {
                check(LIB.posix_spawn_file_actions_adddup2(fileActions, childFds[fd], fd),
                        "posix_spawn_file_actions_adddup2", program);
            }
            short flags = (short) (Posix.POSIX_SPAWN_SETSIGMASK | Posix.POSIX_SPAWN_SETSIGDEF);
            switch (closeStrategy) {
                case CLOSEFROM -> check(LIB.posix_spawn_file_actions_addclosefrom_np(fileActions, mapped),
                        "posix_spawn_file_actions_addclosefrom_np", program);
                case CLOEXEC_DEFAULT -> flags |= Posix.POSIX_SPAWN_CLOEXEC_DEFAULT;
                case PROC_SCAN -> addCloseForInheritable(fileActions, mapped, program);
                case NONE -> { }
            }
            if (cwd != 0) {
                check(LIB.posix_spawn_file_actions_addchdir_np(fileActions, cwd),
                        "posix_spawn_file_actions_addchdir_np", program);
            }

            check(LIB.posix_spawnattr_init(attr), "posix_spawnattr_init", program);
            attrReady = true;
            if (pty) {
                // setsid() also makes the child a group leader (pgid == pid), which is what
                // newProcessGroup asks for; SETPGROUP on top would fail (EPERM for a session leader).
                flags |= Posix.POSIX_SPAWN_SETSID;
            } else if (spec.newProcessGroup()) {
                flags |= Posix.POSIX_SPAWN_SETPGROUP;
                check(LIB.posix_spawnattr_setpgroup(attr, 0), "posix_spawnattr_setpgroup", program);
            }
            int flagsRc = LIB.posix_spawnattr_setflags(attr, flags);
            if (flagsRc == EINVAL && pty) {
                throw new SpawnException("cannot start program '" + program + "': pseudoTerminal(true) needs "
                        + "POSIX_SPAWN_SETSID, which this libc rejects (glibc >= 2.26 needed) (EINVAL)", program,
                        EINVAL, "EINVAL");
            }
            check(flagsRc, "posix_spawnattr_setflags", program);
            LIB.sigemptyset(block + OFF_SIGSET_EMPTY);
            check(LIB.posix_spawnattr_setsigmask(attr, block + OFF_SIGSET_EMPTY), "posix_spawnattr_setsigmask", program);
            LIB.sigfillset(block + OFF_SIGSET_FULL);
            if (Posix.LINUX) {
                // sigfillset leaves out glibc's internal signals 32 and 33 (SIGCANCEL, SIGSETXID),
                // and glibc's spawn child sets every blocked signal it was not told to default to
                // SIG_IGN when it is internal; exec keeps SIG_IGN, so without this every child
                // ignores 32 and 33. Setting all 64 bits by hand bypasses sigaddset's refusal;
                // SIGKILL/SIGSTOP in the set are harmless (the child's sigaction just fails).
                MEM.putLong(block + OFF_SIGSET_FULL, -1L);
            }
            check(LIB.posix_spawnattr_setsigdefault(attr, block + OFF_SIGSET_FULL), "posix_spawnattr_setsigdefault",
                    program);

            long file = block + strings; // argv[0]
            int rc = LIB.posix_spawnp(block + OFF_PID, file, fileActions, attr, block + argvPtrs,
                    Pointer.wrap(Posix.RUNTIME, envp));
            if (rc != 0) {
                throw spawnFailure(rc, spec, program);
            }
            pid = MEM.getInt(block + OFF_PID);
            spawned = true;
        } finally {
            if (fileActionsReady) {
                LIB.posix_spawn_file_actions_destroy(block + OFF_FILE_ACTIONS);
            }
            if (attrReady) {
                LIB.posix_spawnattr_destroy(block + OFF_ATTR);
            }
            MEM.freeMemory(block);
            // The child holds its own copies now (or never will); ours would keep pipes from
            // reporting EOF/EPIPE when the child exits.
            for (int fd : childFds) {
                Native.closeQuietly(fd);
            }
            // The child opened the slave by path; ours would keep the master from reporting EIO
            // (the end) after the child exits.
            Native.closeQuietly(ptyFds[1]);
            if (!spawned) {
                for (int fd : parentFds) {
                    Native.closeQuietly(fd);
                }
                Native.closeQuietly(ptyFds[0]);
            }
        }

        int[] extra = new int[mapped - 3];
        System.arraycopy(parentFds, 3, extra, 0, extra.length);
        if (pty) {
            return new Spawned(pid, ptyFds[0], ptyFds[0], parentFds[2], extra, openPidfd(pid), ptyEof);
        }
        return new Spawned(pid, parentFds[0], parentFds[1], parentFds[2], extra, openPidfd(pid));
    }

    /**
     * Opens a pseudo-terminal pair (Linux): the master, CLOEXEC and non-blocking, into
     * {@code fds[0]}; the slave, CLOEXEC and O_NOCTTY (the JVM must never acquire it as its own
     * controlling terminal), into {@code fds[1]}; the slave's path, NUL-terminated, at
     * {@code area + TERMIOS_SIZE} for the child's open action. Each fd is recorded the moment it
     * exists, so the caller's finally block closes it whatever fails next.
     *
     * <p>The slave's modes are set here, before the child exists, so there is no window in which it
     * runs with them: ECHO off (the parent would read back everything it writes), ONLCR off (lines
     * would come out ending in CR LF), VEOF set to ^D explicitly. The rest stays as the kernel's
     * default: canonical input, ICRNL, ISIG (a ^C written is a SIGINT to the child).
     *
     * @return the VEOF character
     */
    private static byte openTerminal(long area, int[] fds, String program) {
        int master = LIB.posix_openpt(Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC);
        if (master < 0) {
            throw systemCallFailure("posix_openpt", Native.errno(), program);
        }
        fds[0] = master;
        if (LIB.grantpt(master) != 0) {
            throw systemCallFailure("grantpt", Native.errno(), program);
        }
        if (LIB.unlockpt(master) != 0) {
            throw systemCallFailure("unlockpt", Native.errno(), program);
        }
        long termios = area;
        long path = area + Posix.TERMIOS_SIZE;
        int rc = LIB.ptsname_r(master, path, PTS_NAME_MAX);
        if (rc != 0) {
            throw systemCallFailure("ptsname_r", rc, program);
        }
        // A fresh master has no other status flags to keep (F_SETFL ignores the access mode).
        if (LIB.fcntl(master, Posix.F_SETFL, Posix.O_NONBLOCK) < 0) {
            throw systemCallFailure("fcntl(pty master, F_SETFL, O_NONBLOCK)", Native.errno(), program);
        }
        int slave = LIB.open(path, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC, 0);
        if (slave < 0) {
            throw systemCallFailure("open(pty slave)", Native.errno(), program);
        }
        fds[1] = slave;
        if (LIB.tcgetattr(slave, termios) != 0) {
            throw systemCallFailure("tcgetattr(pty slave)", Native.errno(), program);
        }
        int lflag = MEM.getInt(termios + Posix.TERMIOS_LFLAG);
        MEM.putInt(termios + Posix.TERMIOS_LFLAG, lflag & ~(Posix.ECHO | Posix.ECHONL));
        int oflag = MEM.getInt(termios + Posix.TERMIOS_OFLAG);
        MEM.putInt(termios + Posix.TERMIOS_OFLAG, oflag & ~Posix.ONLCR);
        byte eof = 4; // ^D
        MEM.putByte(termios + Posix.TERMIOS_CC + Posix.VEOF, eof);
        if (LIB.tcsetattr(slave, Posix.TCSANOW, termios) != 0) {
            throw systemCallFailure("tcsetattr(pty slave)", Native.errno(), program);
        }
        return eof;
    }

    /**
     * Opens a redirection file here rather than by a file action: a failure then names the file
     * instead of surfacing from posix_spawnp as if the program were at fault, and no child exists
     * yet. CLOEXEC like every fd of ours; the dup2 action clears it on the child's copy.
     */
    private static int openFile(long path, int flags, String what, String program) {
        int fd = LIB.open(path, flags, 0666);
        if (fd < 0) {
            int errno = Native.errno();
            throw new SpawnException("cannot open " + what + ": " + describe(errno), program, errno, Native.errnoName(errno));
        }
        return fd;
    }

    /**
     * A private copy of a descriptor the caller owns, above the mapped range: the finally block of
     * {@link #spawn} then closes it like every other child end, and never the caller's original.
     */
    private static int dupCallerFd(int fd, int mapped, String stream, String program) {
        int copy = LIB.fcntl(fd, Posix.F_DUPFD_CLOEXEC, mapped);
        if (copy < 0) {
            int errno = Native.errno();
            throw new SpawnException("cannot start program '" + program + "': " + stream + " fd " + fd
                    + " cannot be duplicated: " + describe(errno), program, errno, Native.errnoName(errno));
        }
        return copy;
    }

    /**
     * A pipe for linking two children (a pipeline): {@code [read end, write end]}, both CLOEXEC and
     * blocking, because only children use them; {@code pipeSize} as for a spawn's pipes (0 = the
     * kernel's default). The caller owns both and closes each once; a
     * failure ({@code EMFILE}) is a SpawnException about {@code program}, the stage it was for.
     */
    public static int[] pipe(String program, int pipeSize) {
        long scratch = MEM.allocateMemory(8, false);
        if (scratch == 0) {
            throw new OutOfMemoryError("malloc(8) for pipe2");
        }
        int[] fds;
        try {
            if (LIB.pipe2(scratch, Posix.O_CLOEXEC) != 0) {
                throw systemCallFailure("pipe2", Native.errno(), program);
            }
            fds = new int[] {MEM.getInt(scratch), MEM.getInt(scratch + 4)};
        } finally {
            MEM.freeMemory(scratch);
        }
        if (pipeSize > 0 && Posix.LINUX && LIB.fcntl(fds[0], Posix.F_SETPIPE_SZ, pipeSize) < 0) {
            int errno = Native.errno();
            Native.closeQuietly(fds[0]);
            Native.closeQuietly(fds[1]);
            throw new SpawnException("cannot start program '" + program + "': pipeSize " + pipeSize
                    + " rejected by F_SETPIPE_SZ: " + describe(errno), program, errno, Native.errnoName(errno));
        }
        return fds;
    }

    private static long put(long address, byte[] cString) {
        MEM.putByteArray(address, cString, 0, cString.length);
        return address + cString.length;
    }

    /**
     * One pipe for child fd {@code target}. Both ends are CLOEXEC (pipe2 sets it atomically, so a
     * concurrent spawn elsewhere cannot catch them half-made); only the parent's end is made
     * non-blocking, because O_NONBLOCK lives on the shared open file description and the child's
     * end must stay blocking for ordinary programs.
     */
    private static void makePipe(long scratch, int target, boolean childReads, int[] childFds, int[] parentFds,
                                 SpawnSpec spec, String program) {
        if (LIB.pipe2(scratch, Posix.O_CLOEXEC) != 0) {
            throw systemCallFailure("pipe2", Native.errno(), program);
        }
        int readEnd = MEM.getInt(scratch);
        int writeEnd = MEM.getInt(scratch + 4);
        childFds[target] = childReads ? readEnd : writeEnd;
        parentFds[target] = childReads ? writeEnd : readEnd;
        if (spec.pipeSize() > 0 && Posix.LINUX && LIB.fcntl(readEnd, Posix.F_SETPIPE_SZ, spec.pipeSize()) < 0) {
            int errno = Native.errno();
            throw new SpawnException("cannot start program '" + program + "': pipeSize " + spec.pipeSize()
                    + " rejected by F_SETPIPE_SZ (above /proc/sys/fs/pipe-max-size or the user's pipe quota?): "
                    + describe(errno), program, errno, Native.errnoName(errno));
        }
        // A fresh pipe has no other status flags, so setting O_NONBLOCK outright saves an F_GETFL.
        if (LIB.fcntl(parentFds[target], Posix.F_SETFL, Posix.O_NONBLOCK) < 0) {
            throw systemCallFailure("fcntl(F_SETFL, O_NONBLOCK)", Native.errno(), program);
        }
    }

    /**
     * Makes sure no child end sits on a target number (0..mapped-1), which happens when the JVM
     * runs with fd 0, 1 or 2 closed. Otherwise dup2(a, 0) could overwrite the source of a later
     * dup2, and dup2(fd, fd) would leave FD_CLOEXEC set on some libcs, closing it at exec.
     */
    private static void moveAboveMapped(int[] childFds, int mapped, String program) {
        for (int i = 0; i < childFds.length; i++) {
            int fd = childFds[i];
            if (fd >= 0 && fd < mapped) {
                int moved = LIB.fcntl(fd, Posix.F_DUPFD_CLOEXEC, mapped);
                if (moved < 0) {
                    throw systemCallFailure("fcntl(F_DUPFD_CLOEXEC)", Native.errno(), program);
                }
                Native.closeQuietly(fd);
                childFds[i] = moved;
            }
        }
    }

    /** The file action for one standard stream: a pipe end, /dev/null, or the parent's own fd. */
    private static void addStdio(long fileActions, int target, int childFd, int devNullFlags, boolean inherit,
                                 long devNull, CloseStrategy closeStrategy, String program) {
        if (childFd >= 0) {
            check(LIB.posix_spawn_file_actions_adddup2(fileActions, childFd, target), "posix_spawn_file_actions_adddup2",
                    program);
        } else if (devNullFlags >= 0) {
            check(LIB.posix_spawn_file_actions_addopen(fileActions, target, devNull, devNullFlags, 0),
                    "posix_spawn_file_actions_addopen", program);
        } else if (inherit && closeStrategy == CloseStrategy.CLOEXEC_DEFAULT) {
            // POSIX_SPAWN_CLOEXEC_DEFAULT would close the inherited stream too unless named.
            int rc = Posix.HAS_ADDINHERIT ? LIB.posix_spawn_file_actions_addinherit_np(fileActions, target)
                    : LIB.posix_spawn_file_actions_adddup2(fileActions, target, target);
            check(rc, "posix_spawn_file_actions_addinherit_np", program);
        }
    }

    /** The PROC_SCAN strategy (see {@link CloseStrategy#PROC_SCAN}). */
    private static void addCloseForInheritable(long fileActions, int firstUnmapped, String program) {
        String[] names = new File("/proc/self/fd").list();
        if (names == null) {
            return;
        }
        for (String name : names) {
            int fd;
            try {
                fd = Integer.parseInt(name);
            } catch (NumberFormatException e) {
                continue;
            }
            if (fd < firstUnmapped) {
                continue;
            }
            int fdFlags = LIB.fcntl(fd, Posix.F_GETFD, 0);
            if (fdFlags >= 0 && (fdFlags & Posix.FD_CLOEXEC) == 0) {
                check(LIB.posix_spawn_file_actions_addclose(fileActions, fd), "posix_spawn_file_actions_addclose",
                        program);
            }
        }
    }

    /** Checked before spawning so that a bad directory is not reported as a missing program. */
    private static void checkWorkingDirectory(String dir, String program) {
        if (!Posix.HAS_ADDCHDIR) {
            // The alternative, exec'ing through "sh -c 'cd dir && exec ...'", would change argv[0]
            // resolution and error reporting; failing clearly is the honest option.
            throw new SpawnException("working directory '" + dir + "' cannot be set: this libc lacks "
                    + "posix_spawn_file_actions_addchdir_np (glibc >= 2.29 / macOS >= 10.15 needed) (ENOSYS)",
                    program, ENOSYS, "ENOSYS");
        }
        File f = new File(dir);
        if (!f.exists()) {
            throw cwdFailure(dir, "does not exist", ENOENT, program);
        }
        if (!f.isDirectory()) {
            throw cwdFailure(dir, "is not a directory", ENOTDIR, program);
        }
    }

    private static SpawnException cwdFailure(String dir, String what, int errno, String program) {
        String name = Native.errnoName(errno);
        return new SpawnException("working directory '" + dir + "' " + what + " (" + name + ")", program, errno, name);
    }

    /** Maps posix_spawnp's result to a message that blames the right thing. */
    private static SpawnException spawnFailure(int errno, SpawnSpec spec, String program) {
        String dir = spec.workingDirectory();
        if (dir != null && (errno == ENOENT || errno == ENOTDIR || errno == EACCES)) {
            // The chdir action runs in the child just before exec and fails with these same
            // errnos; the directory may have changed since our check.
            File f = new File(dir);
            if (!f.isDirectory()) {
                return cwdFailure(dir, f.exists() ? "is not a directory" : "does not exist",
                        f.exists() ? ENOTDIR : ENOENT, program);
            }
            if (errno == EACCES && !f.canExecute()) {
                return cwdFailure(dir, "is not searchable", EACCES, program);
            }
        }
        String name = Native.errnoName(errno);
        String message;
        if (errno == ENOENT) {
            message = "program '" + program + "' not found (ENOENT)";
        } else if (errno == EACCES) {
            message = "program '" + program + "' is not executable (EACCES)";
        } else if (errno == ENOEXEC) {
            message = "program '" + program + "' is not in an executable format (ENOEXEC)";
        } else {
            message = "cannot start program '" + program + "': " + describe(errno);
        }
        return new SpawnException(message, program, errno, name);
    }

    private static SpawnException systemCallFailure(String call, int errno, String program) {
        return new SpawnException("cannot start program '" + program + "': " + call + " failed: " + describe(errno),
                program, errno, Native.errnoName(errno));
    }

    private static void check(int rc, String call, String program) {
        if (rc != 0) {
            throw systemCallFailure(call, rc, program);
        }
    }

    /** "Too many open files (EMFILE)". */
    private static String describe(int errno) {
        return Native.LIBC.strerror(errno) + " (" + Native.errnoName(errno) + ")";
    }

    /** Only when libc's environ cannot be located: the JVM's snapshot from startup. */
    private static byte[][] systemEnvironment() {
        Map<String, String> env = System.getenv();
        byte[][] out = new byte[env.size()][];
        int i = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            byte[] encoded = (e.getKey() + "=" + e.getValue()).getBytes(SpawnSpec.ENCODING);
            out[i] = Arrays.copyOf(encoded, encoded.length + 1);
            i++;
        }
        return out;
    }

    /**
     * Opens a pidfd while the child cannot have been reaped yet (only our caller knows its pid), so
     * it names this child and never a recycled pid. Returns -1 where unavailable; a failure such as
     * EMFILE also yields -1 rather than failing a spawn whose child is already running.
     */
    private static int openPidfd(int pid) {
        while (true) {
            int mode = pidfdMode;
            if (mode == 2) {
                return -1;
            }
            long fd = LIB.syscall(Posix.SYS_PIDFD_OPEN, pid, mode == 0 ? Posix.O_NONBLOCK : 0, 0, 0);
            if (fd >= 0) {
                if (mode == 1 && LIB.fcntl((int) fd, Posix.F_SETFL, Posix.O_NONBLOCK) < 0) {
                    LOG.debug("fcntl(pidfd, O_NONBLOCK) failed: {}", Native.errnoName(Native.errno()));
                }
                return (int) fd;
            }
            int errno = Native.errno();
            if (mode == 0 && errno == EINVAL) {
                pidfdMode = 1;
                continue;
            }
            if (errno == ENOSYS || errno == EPERM) {
                pidfdMode = 2;
                LOG.debug("pidfd_open unavailable ({}); children are signalled by pid", Native.errnoName(errno));
            } else {
                LOG.debug("pidfd_open({}) failed: {}", pid, Native.errnoName(errno));
            }
            return -1;
        }
    }
}
