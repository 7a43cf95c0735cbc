package io.dualpipe.process.internal;

import io.dualpipe.core.internal.Native;
import io.dualpipe.process.SpawnException;
import jnr.constants.platform.Errno;

import java.io.File;

/**
 * The typed errors of a spawn: each names the program and the errno, and blames the right thing
 * (the program, its working directory, a redirection file or a system call). Stateless.
 */
final class SpawnFailures {
    static final int ENOENT = Errno.ENOENT.intValue();
    static final int EACCES = Errno.EACCES.intValue();
    static final int ENOTDIR = Errno.ENOTDIR.intValue();
    static final int ENOEXEC = Errno.ENOEXEC.intValue();
    static final int ENOSYS = Errno.ENOSYS.intValue();
    static final int EPERM = Errno.EPERM.intValue();
    static final int EINVAL = Errno.EINVAL.intValue();

    private SpawnFailures() {
    }

    /** Checked before spawning so that a bad directory is not reported as a missing program. */
    static void checkWorkingDirectory(String dir, String program) {
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

    static SpawnException cwdFailure(String dir, String what, int errno, String program) {
        String name = Native.errnoName(errno);
        return new SpawnException("working directory '" + dir + "' " + what + " (" + name + ")", program, errno, name);
    }

    /** Maps posix_spawnp's result to a message that blames the right thing. */
    static SpawnException spawnFailure(int errno, SpawnSpec spec, String program) {
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

    static SpawnException systemCallFailure(String call, int errno, String program) {
        return new SpawnException("cannot start program '" + program + "': " + call + " failed: " + describe(errno),
                program, errno, Native.errnoName(errno));
    }

    static void check(int rc, String call, String program) {
        if (rc != 0) {
            throw systemCallFailure(call, rc, program);
        }
    }

    /** "Too many open files (EMFILE)". */
    static String describe(int errno) {
        return Native.LIBC.strerror(errno) + " (" + Native.errnoName(errno) + ")";
    }
}
