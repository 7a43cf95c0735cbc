package io.dualpipe.process.internal;

import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.Native;

import static io.dualpipe.process.internal.Posix.LIB;
import static io.dualpipe.process.internal.SpawnFailures.EINVAL;
import static io.dualpipe.process.internal.SpawnFailures.ENOSYS;
import static io.dualpipe.process.internal.SpawnFailures.EPERM;

/** pidfds for freshly spawned children (Linux >= 5.3), learning once what the kernel offers. */
final class Pidfds {
    private static final LazyLogger LOG = new LazyLogger(Pidfds.class);

    // pidfd_open support, learned from the first attempts: 0 = pass PIDFD_NONBLOCK (Linux >= 5.10),
    // 1 = no flags then fcntl (5.3..5.9 reject the flag with EINVAL), 2 = unavailable (ENOSYS,
    // EPERM from a seccomp filter, not Linux). Racy updates are benign: every value is a valid state.
    // -Ddualpipe.pidfd=false starts in mode 2: the polling exit watcher macOS uses, testable on Linux.
    private static volatile int pidfdMode = Posix.PIDFD_SYSCALLS && !"false".equals(System.getProperty("dualpipe.pidfd")) ? 0 : 2;

    private Pidfds() {
    }

    /**
     * Opens a pidfd while the child cannot have been reaped yet (only our caller knows its pid), so
     * it names this child and never a recycled pid. Returns -1 where unavailable; a failure such as
     * EMFILE also yields -1 rather than failing a spawn whose child is already running.
     */
    static int open(int pid) {
        while (true) {
            int mode = pidfdMode;
            if (mode == 2) {
                return -1;
            }
            long fd = LIB.syscall(Posix.SYS_PIDFD_OPEN, pid, mode == 0 ? Posix.O_NONBLOCK : 0, 0, 0);
            if (fd >= 0) {
                if (mode == 1 && LIB.fcntl((int) fd, Posix.F_SETFL, Posix.O_NONBLOCK) < 0) {
                    LOG.get().debug("fcntl(pidfd, O_NONBLOCK) failed: {}", Native.errnoName(Native.errno()));
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
                LOG.get().debug("pidfd_open unavailable ({}); children are signalled by pid", Native.errnoName(errno));
            } else {
                LOG.get().debug("pidfd_open({}) failed: {}", pid, Native.errnoName(errno));
            }
            return -1;
        }
    }
}
