package io.dualpipe.process.internal;

import io.dualpipe.core.internal.Native;

import static io.dualpipe.process.internal.Posix.LIB;
import static io.dualpipe.process.internal.Posix.MEM;
import static io.dualpipe.process.internal.SpawnFailures.systemCallFailure;

/** Pseudo-terminal pairs for {@link SpawnSpec#pseudoTerminal()} children (Linux). Stateless. */
final class Terminals {
    static final int PTS_NAME_MAX = 128;
    /** Bytes a spawn block reserves for a terminal: struct termios, then the slave's path. */
    static final int AREA = Posix.TERMIOS_SIZE + PTS_NAME_MAX;

    private Terminals() {
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
    static byte openTerminal(long area, int[] fds, String program) {
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
}
