package io.dualpipe.process.internal;

import io.dualpipe.core.internal.Native;
import io.dualpipe.process.SpawnException;

import java.io.File;

import static io.dualpipe.process.internal.Posix.LIB;
import static io.dualpipe.process.internal.Posix.MEM;
import static io.dualpipe.process.internal.SpawnFailures.check;
import static io.dualpipe.process.internal.SpawnFailures.describe;
import static io.dualpipe.process.internal.SpawnFailures.systemCallFailure;

/**
 * The descriptors of a spawn: pipes, redirection files, caller fds, and the file actions that put
 * them on the child's 0, 1, 2, 3, ... Every fd made here is CLOEXEC; see {@link Spawner} for the
 * order of defence. Stateless.
 */
final class ChildFds {
    private ChildFds() {
    }

    /**
     * Opens a redirection file here rather than by a file action: a failure then names the file
     * instead of surfacing from posix_spawnp as if the program were at fault, and no child exists
     * yet. CLOEXEC like every fd of ours; the dup2 action clears it on the child's copy.
     */
    static int openFile(long path, int flags, String what, String program) {
        int fd = LIB.open(path, flags, 0666);
        if (fd < 0) {
            int errno = Native.errno();
            throw new SpawnException("cannot open " + what + ": " + describe(errno), program, errno, Native.errnoName(errno));
        }
        return fd;
    }

    /**
     * A private copy of a descriptor the caller owns, above the mapped range: the finally block of
     * {@link Spawner#spawn} then closes it like every other child end, and never the caller's original.
     */
    static int dupCallerFd(int fd, int mapped, String stream, String program) {
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

    static long put(long address, byte[] cString) {
        MEM.putByteArray(address, cString, 0, cString.length);
        return address + cString.length;
    }

    /**
     * One pipe for child fd {@code target}. Both ends are CLOEXEC (pipe2 sets it atomically, so a
     * concurrent spawn elsewhere cannot catch them half-made); only the parent's end is made
     * non-blocking, because O_NONBLOCK lives on the shared open file description and the child's
     * end must stay blocking for ordinary programs.
     */
    static void makePipe(long scratch, int target, boolean childReads, int[] childFds, int[] parentFds,
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
    static void moveAboveMapped(int[] childFds, int mapped, String program) {
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
    static void addStdio(long fileActions, int target, int childFd, int devNullFlags, boolean inherit,
                                 long devNull, Spawner.CloseStrategy closeStrategy, String program) {
        if (childFd >= 0) {
            check(LIB.posix_spawn_file_actions_adddup2(fileActions, childFd, target), "posix_spawn_file_actions_adddup2",
                    program);
        } else if (devNullFlags >= 0) {
            check(LIB.posix_spawn_file_actions_addopen(fileActions, target, devNull, devNullFlags, 0),
                    "posix_spawn_file_actions_addopen", program);
        } else if (inherit && closeStrategy == Spawner.CloseStrategy.CLOEXEC_DEFAULT) {
            // POSIX_SPAWN_CLOEXEC_DEFAULT would close the inherited stream too unless named.
            int rc = Posix.HAS_ADDINHERIT ? LIB.posix_spawn_file_actions_addinherit_np(fileActions, target)
                    : LIB.posix_spawn_file_actions_adddup2(fileActions, target, target);
            check(rc, "posix_spawn_file_actions_addinherit_np", program);
        }
    }

    /** The PROC_SCAN strategy (see {@link Spawner.CloseStrategy#PROC_SCAN}). */
    static void addCloseForInheritable(long fileActions, int firstUnmapped, String program) {
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
}
