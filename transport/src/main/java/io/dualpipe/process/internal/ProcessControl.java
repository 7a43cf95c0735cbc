package io.dualpipe.process.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.process.ExitStatus;
import jnr.constants.platform.Errno;
import jnr.constants.platform.Signal;

/**
 * Reaping and signalling of children started by {@link Spawner}.
 *
 * <p>Only ever waits for a specific pid: waitpid(-1) would also reap children of the JDK's
 * ProcessBuilder (or of any other library) and steal their exit statuses.
 *
 * <p>Thread-safe: stateless. The usual pid caveat applies to callers: once a pid has been reaped it
 * may be reused, so signal by pid only while the child is known to be unreaped, or use the pidfd.
 */
public final class ProcessControl {
    public static final int SIGTERM = Signal.SIGTERM.intValue();
    public static final int SIGKILL = Signal.SIGKILL.intValue();
    public static final int SIGINT = Signal.SIGINT.intValue();
    public static final int SIGHUP = Signal.SIGHUP.intValue();

    private static final int ECHILD = Errno.ECHILD.intValue();
    private static final int ESRCH = Errno.ESRCH.intValue();

    private ProcessControl() {
    }

    /**
     * Reaps {@code pid} if it has ended: returns its status then (once; the pid is gone afterwards),
     * or null while it is still running.
     *
     * @throws NativeIoException with errno ECHILD when pid is not an unreaped child of this
     *         process: already reaped (twice-called, or stolen by someone's waitpid(-1)), never
     *         ours, or auto-reaped because SIGCHLD was set to SIG_IGN/SA_NOCLDWAIT after we started
     */
    public static ExitStatus waitNoHang(int pid) {
        requirePid(pid);
        // First use of Posix initialises it, which resets an inherited SIG_IGN for SIGCHLD.
        int[] status = new int[1];
        while (true) {
            int rc = Posix.LIB.waitpid(pid, status, Posix.WNOHANG);
            if (rc == pid) {
                return ExitStatus.fromWaitStatus(status[0]);
            }
            if (rc == 0) {
                return null;
            }
            int errno = Native.errno();
            if (errno == Native.EINTR) {
                continue;
            }
            if (errno == ECHILD) {
                throw new NativeIoException("waitpid(" + pid + ")", errno, "ECHILD",
                        "not an unreaped child of this process: already reaped, by us or by someone's waitpid(-1), "
                                + "or auto-reaped because SIGCHLD is ignored");
            }
            throw Native.lastError("waitpid(" + pid + ")");
        }
    }

    /**
     * Sends {@code sig} to one child: through its pidfd when {@code pidfd >= 0} (immune to pid
     * reuse), else with kill(2).
     *
     * @return false when the process is gone (ESRCH: it has been reaped; an exited but unreaped
     *         child still accepts signals, which then have no effect), true when sent. With a pidfd
     *         this is reliable even after reaping; with a bare pid, signalling after reaping may hit
     *         an unrelated process that reused the pid, so callers must not
     * @throws NativeIoException for any other failure (EPERM, EINVAL for a bad signal number)
     */
    public static boolean signal(int pid, int pidfd, int sig) {
        requirePid(pid);
        int rc;
        String what;
        if (pidfd >= 0) {
            rc = (int) Posix.LIB.syscall(Posix.SYS_PIDFD_SEND_SIGNAL, pidfd, sig, 0, 0);
            what = "pidfd_send_signal(pidfd " + pidfd + " of pid " + pid + ", " + sig + ")";
        } else {
            rc = Posix.LIB.kill(pid, sig);
            what = "kill(" + pid + ", " + sig + ")";
        }
        return result(rc, what);
    }

    /**
     * Sends {@code sig} to every process in group {@code pgid} (a child spawned with
     * newProcessGroup leads the group whose id is its pid).
     *
     * @return false when the group has no members left (ESRCH), true when sent
     * @throws NativeIoException for any other failure
     */
    public static boolean signalGroup(int pgid, int sig) {
        if (pgid <= 1) {
            // killpg(0) is our own group, and 1 would be init's; neither is ever a child's group.
            throw new InvalidArgumentException("pgid <= 1: " + pgid);
        }
        return result(Posix.LIB.killpg(pgid, sig), "killpg(" + pgid + ", " + sig + ")");
    }

    private static boolean result(int rc, String what) {
        if (rc == 0) {
            return true;
        }
        int errno = Native.errno();
        if (errno == ESRCH) {
            return false;
        }
        throw new NativeIoException(what, errno, Native.errnoName(errno), Native.LIBC.strerror(errno));
    }

    private static void requirePid(int pid) {
        // 0 and negatives mean "any child"/"a group" to waitpid and kill; never what a caller means.
        if (pid <= 0) {
            throw new InvalidArgumentException("pid <= 0: " + pid);
        }
    }
}
