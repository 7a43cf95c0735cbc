package io.dualpipe.process.internal;

import io.dualpipe.core.internal.Native;
import io.dualpipe.process.ResourceLimitException;
import io.dualpipe.process.ResourceLimits;
import io.dualpipe.process.SpawnException;
import jnr.constants.platform.RLIMIT;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts a child under {@link ResourceLimits} without touching the JVM's own limits: the spawn runs
 * {@code /bin/sh -c SCRIPT PROGRAM ARGS...}, where SCRIPT lowers each limit (soft and hard) with the
 * shell's {@code ulimit}, reports on the fd after the extra pipes ({@code 3 + extras}, at most
 * {@value #MAX_STATUS_FD}), closes it and {@code exec}s the program:
 * the limits are in force before its first instruction, in the same pid.
 *
 * <p>The report is read by the parent right after posix_spawnp returned: end of file alone means every
 * limit was set and the fd was closed just before the exec; anything written means a {@code ulimit}
 * failed, and the shell exits (status {@value #FAILED_EXIT}) without running the program. The read
 * blocks for as long as the shell runs its builtins (a fork for one probe, about a millisecond).
 *
 * <p>Before the spawn, each limit is checked against the JVM's hard limit (lowering is always allowed,
 * raising never meant), and the program is resolved in the JVM's PATH, as posix_spawnp would, so a
 * missing program is a SpawnException and not the shell's exit status 127. Stateless, thread-safe.
 */
final class LimitTrampoline {
    /** The highest fd the report can use: dash's redirections take single digits only. */
    static final int MAX_STATUS_FD = 9;
    static final int FAILED_EXIT = 125;
    static final String SHELL = "/bin/sh";

    private static final int EPERM = SpawnFailures.EPERM;
    private static final int EINVAL = SpawnFailures.EINVAL;

    private LimitTrampoline() {
    }

    /**
     * The argv to spawn instead of {@code spec.argv()}, NUL-terminated.
     *
     * @throws ResourceLimitException when a limit is above the JVM's hard limit
     * @throws SpawnException when the program is not found or not executable
     */
    static byte[][] argv(SpawnSpec spec, String program) {
        ResourceLimits limits = spec.limits();
        int statusFd = statusFd(spec);
        StringBuilder script = new StringBuilder();
        for (Map.Entry<String, Long> e : limits.asMap().entrySet()) {
            String name = e.getKey();
            long value = e.getValue();
            checkAgainstHardLimit(name, value, program);
            String set;
            switch (name) {
                case "cpuSeconds" -> set = "ulimit -t " + value;
                case "addressSpaceBytes" -> set = "ulimit -v " + (value / 1024);
                case "openFiles" -> set = "ulimit -n " + value;
                // bash, zsh and ksh call it -u; dash and busybox ash -p (bash's -p is the pipe size).
                case "processes" -> set = "if (ulimit -u) >/dev/null 2>&1; then ulimit -u " + value
                        + "; else ulimit -p " + value + "; fi";
                case "fileSizeBytes" -> set = "ulimit -f " + (value / 512);
                default -> throw new IllegalStateException("unknown limit " + name);
            }
            script.append("{ ").append(set).append("; } 2>&").append(statusFd)
                    .append(" || { echo 'limit ").append(name).append("' >&").append(statusFd)
                    .append("; exit ").append(FAILED_EXIT).append("; }\n");
        }
        script.append("exec ").append(statusFd).append(">&-\nexec \"$0\" \"$@\"\n");

        List<String> argv = new ArrayList<>(spec.argv().size() + 3);
        argv.add(SHELL);
        argv.add("-c");
        argv.add(script.toString());
        argv.add(resolve(program, spec.workingDirectory()));
        argv.addAll(spec.argv().subList(1, spec.argv().size()));
        return NativeStrings.each(argv);
    }

    /** The child's fd for the report: the one after the extra pipes. */
    static int statusFd(SpawnSpec spec) {
        return 3 + spec.extraPipes().size();
    }

    /** A pipe for the report: {@code [read end, write end]}, CLOEXEC and blocking. */
    static int[] statusPipe(String program) {
        int[] fds = new int[2];
        if (LimitLib.LIB.pipe2(fds, Posix.O_CLOEXEC) != 0) {
            throw SpawnFailures.systemCallFailure("pipe2", Native.errno(), program);
        }
        return fds;
    }

    /**
     * Reads the trampoline's report to its end; null when every limit is in force.
     * {@code statusFd} is the parent's read end, which the caller closes.
     */
    static String awaitReport(int statusFd) {
        ByteArrayOutputStream report = new ByteArrayOutputStream();
        byte[] buf = new byte[512];
        while (report.size() < 64 * 1024) {
            long n = LimitLib.LIB.read(statusFd, buf, buf.length);
            if (n > 0) {
                report.write(buf, 0, (int) n);
            } else if (n == 0) {
                break;
            } else if (Native.errno() != Native.EINTR) {
                return "limit ? (reading the trampoline's report failed: " + Native.errnoName(Native.errno()) + ")";
            }
        }
        return report.size() == 0 ? null : report.toString(StandardCharsets.UTF_8);
    }

    /** The typed error for a report that {@link #awaitReport} returned. */
    static ResourceLimitException failure(String report, SpawnSpec spec, String program) {
        String name = "?";
        StringBuilder shellSaid = new StringBuilder();
        for (String line : report.split("\n")) {
            if (line.startsWith("limit ")) {
                name = line.substring("limit ".length()).trim();
            } else if (!line.isBlank()) {
                shellSaid.append(shellSaid.length() == 0 ? "" : "; ").append(line.trim());
            }
        }
        Long value = spec.limits().asMap().get(name);
        boolean perm = shellSaid.indexOf("not permitted") >= 0;
        int errno = perm ? EPERM : EINVAL;
        String errnoName = perm ? "EPERM" : "EINVAL";
        return new ResourceLimitException("cannot start program '" + program + "': limit " + name + "=" + value
                + " could not be set by " + SHELL + "'s ulimit: " + (shellSaid.length() == 0 ? "(no message)" : shellSaid)
                + " (" + errnoName + ")", program, name, value == null ? -1 : value, errno, errnoName);
    }

    private static void checkAgainstHardLimit(String name, long value, String program) {
        RLIMIT resource = switch (name) {
            case "cpuSeconds" -> RLIMIT.RLIMIT_CPU;
            case "addressSpaceBytes" -> RLIMIT.RLIMIT_AS;
            case "openFiles" -> RLIMIT.RLIMIT_NOFILE;
            case "processes" -> RLIMIT.RLIMIT_NPROC;
            default -> RLIMIT.RLIMIT_FSIZE;
        };
        if (!resource.defined()) {
            throw new ResourceLimitException("cannot start program '" + program + "': limit " + name + "=" + value
                    + " has no rlimit on " + Posix.OS + " (ENOSYS)", program, name, value, SpawnFailures.ENOSYS, "ENOSYS");
        }
        long[] rlim = new long[2];
        if (LimitLib.LIB.getrlimit(resource.intValue(), rlim) != 0) {
            return; // the shell's ulimit will report what is wrong
        }
        long hard = rlim[1];
        // RLIM_INFINITY is all ones on Linux (negative here) and 2^63-1 on macOS and FreeBSD.
        if (hard >= 0 && hard != Long.MAX_VALUE && value > hard) {
            throw new ResourceLimitException("cannot start program '" + program + "': limit " + name + "=" + value
                    + " is above this process's hard limit " + hard + " (EPERM): a limit can only lower it",
                    program, name, value, EPERM, "EPERM");
        }
    }

    /**
     * Where posix_spawnp would find {@code program}: as given when it contains a '/' (relative to the
     * child's working directory, which the shell has changed to by then), else the first executable
     * match in the JVM's PATH (glibc's default when unset).
     */
    static String resolve(String program, String workingDirectory) {
        if (program.indexOf('/') >= 0) {
            File f = new File(program);
            if (!f.isAbsolute() && workingDirectory != null) {
                f = new File(workingDirectory, program);
            }
            if (!f.exists()) {
                throw new SpawnException("program '" + program + "' not found (ENOENT)", program,
                        SpawnFailures.ENOENT, "ENOENT");
            }
            if (f.isDirectory() || !f.canExecute()) {
                throw new SpawnException("program '" + program + "' is not executable (EACCES)", program,
                        SpawnFailures.EACCES, "EACCES");
            }
            return program;
        }
        String path = System.getenv("PATH");
        boolean sawUnexecutable = false;
        for (String dir : (path == null ? "/bin:/usr/bin" : path).split(":", -1)) {
            File f = new File(dir.isEmpty() ? "." : dir, program);
            if (f.isFile()) {
                if (f.canExecute()) {
                    return f.getAbsolutePath();
                }
                sawUnexecutable = true;
            }
        }
        if (sawUnexecutable) {
            throw new SpawnException("program '" + program + "' is not executable (EACCES)", program,
                    SpawnFailures.EACCES, "EACCES");
        }
        throw new SpawnException("program '" + program + "' not found (ENOENT)", program, SpawnFailures.ENOENT, "ENOENT");
    }
}
