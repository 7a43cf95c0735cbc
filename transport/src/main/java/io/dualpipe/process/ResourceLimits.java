package io.dualpipe.process;

import io.dualpipe.core.InvalidArgumentException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Kernel resource limits (rlimits) for a child, in force before the program's first instruction:
 * CPU seconds, address space, open files, processes and file size. Set them with
 * {@link ChildProcessBuilder#limits(ResourceLimits)}; a limit left unset is inherited from the JVM.
 *
 * <pre>{@code
 * ChildProcess.builder("python3", "untrusted.py")
 *     .limits(ResourceLimits.builder().cpuSeconds(2).addressSpaceBytes(256 << 20)
 *         .openFiles(64).processes(32).fileSizeBytes(1 << 20).build())
 *     .start();
 * }</pre>
 *
 * <p><b>How they are applied.</b> Rlimits belong to a process, and posix_spawn has no attribute
 * for them: calling setrlimit in the JVM would limit the JVM itself. So a limited child is started
 * through a trampoline, {@code /bin/sh -c 'ulimit ...; exec "$0" "$@"' /path/to/program args...}:
 * the shell (same pid, same process group or session, same descriptors) lowers both the soft and
 * the hard limit, so the program cannot raise them back, then replaces itself with the program.
 * Consequences worth knowing:
 * <ul>
 * <li>The program is looked up in the JVM's PATH before the spawn (as posix_spawnp does), so a
 *     missing one still fails {@link ChildProcessBuilder#start()} with a {@link SpawnException}
 *     (ENOENT); the program then sees that resolved path as its {@code argv[0]}.</li>
 * <li>The shell sets the address space in KiB and the file size in 512-byte blocks (POSIX):
 *     byte values are rounded down to those units.</li>
 * <li>A limit above the JVM's own hard limit is refused before anything starts (a limit never
 *     raises what the JVM has), and a limit the shell could not apply stops the program from
 *     running at all; both fail the start with a {@link ResourceLimitException} naming the limit
 *     and its value.</li>
 * <li>With limits, at most 6 extra pipes (fds 3..8): the trampoline reports through fd 9.</li>
 * </ul>
 *
 * <p><b>What each limit does when hit.</b> {@code cpuSeconds}: SIGXCPU at the limit (it kills unless
 * handled), SIGKILL one second later at the latest on Linux. {@code addressSpaceBytes}: mmap/brk fail,
 * so malloc returns NULL (Python raises MemoryError, Java an OutOfMemoryError or fails to start).
 * {@code openFiles}: open and pipe fail with EMFILE for fds at or above the limit. {@code processes}:
 * fork fails with EAGAIN once the user has that many processes; it counts every process of the
 * child's real user id, not only the child's descendants, and the kernel does not enforce it for root
 * (or CAP_SYS_RESOURCE / CAP_SYS_ADMIN): give untrusted code its own unprivileged user. {@code
 * fileSizeBytes}: a write that would grow a file past it gets SIGXFSZ (it kills unless handled) or
 * EFBIG.
 *
 * <p><b>Memory of a whole tree, and more.</b> Rlimits are per process. Where cgroup v2 is delegated
 * to the user (systemd), limit the whole child tree by starting it in a transient scope, e.g.
 * {@code ChildProcess.builder("systemd-run", "--user", "--scope", "--quiet", "-p", "MemoryMax=256M",
 * "-p", "TasksMax=32", "-p", "CPUQuota=50%", "--", "python3", "job.py")}: the scope's limits hold
 * for every descendant and are not bypassed by root inside it.
 *
 * <p>Immutable, hence thread-safe.
 */
public final class ResourceLimits {
    private final long cpuSeconds;
    private final long addressSpaceBytes;
    private final long openFiles;
    private final long processes;
    private final long fileSizeBytes;

    private ResourceLimits(Builder b) {
        this.cpuSeconds = b.cpuSeconds;
        this.addressSpaceBytes = b.addressSpaceBytes;
        this.openFiles = b.openFiles;
        this.processes = b.processes;
        this.fileSizeBytes = b.fileSizeBytes;
    }

    /** {@return a new builder with no limit set} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return RLIMIT_CPU, in seconds of CPU time; empty when not set} */
    public OptionalLong cpuSeconds() {
        return opt(cpuSeconds);
    }

    /** {@return RLIMIT_AS, in bytes (applied in KiB, rounded down); empty when not set} */
    public OptionalLong addressSpaceBytes() {
        return opt(addressSpaceBytes);
    }

    /** {@return RLIMIT_NOFILE: one more than the highest fd number the child can open; empty when not set} */
    public OptionalLong openFiles() {
        return opt(openFiles);
    }

    /** {@return RLIMIT_NPROC: processes of the child's real user id (not enforced for root); empty when not set} */
    public OptionalLong processes() {
        return opt(processes);
    }

    /** {@return RLIMIT_FSIZE, in bytes (applied in 512-byte blocks, rounded down); empty when not set} */
    public OptionalLong fileSizeBytes() {
        return opt(fileSizeBytes);
    }

    /** {@return true when no limit is set} */
    public boolean isEmpty() {
        return asMap().isEmpty();
    }

    /**
     * The limits that are set, by name ({@code cpuSeconds}, {@code addressSpaceBytes},
     * {@code openFiles}, {@code processes}, {@code fileSizeBytes}), in that order.
     *
     * @return a new map of the limits set
     */
    public Map<String, Long> asMap() {
        Map<String, Long> m = new LinkedHashMap<>();
        put(m, "cpuSeconds", cpuSeconds);
        put(m, "addressSpaceBytes", addressSpaceBytes);
        put(m, "openFiles", openFiles);
        put(m, "processes", processes);
        put(m, "fileSizeBytes", fileSizeBytes);
        return m;
    }

    private static void put(Map<String, Long> m, String name, long value) {
        if (value >= 0) {
            m.put(name, value);
        }
    }

    private static OptionalLong opt(long v) {
        return v < 0 ? OptionalLong.empty() : OptionalLong.of(v);
    }

    @Override
    public String toString() {
        return "ResourceLimits" + asMap();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResourceLimits && ((ResourceLimits) o).asMap().equals(asMap());
    }

    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    /** Mutable, single-threaded. Each value is checked when set. */
    public static final class Builder {
        private long cpuSeconds = -1;
        private long addressSpaceBytes = -1;
        private long openFiles = -1;
        private long processes = -1;
        private long fileSizeBytes = -1;

        private Builder() {
        }

        /**
         * Sets RLIMIT_CPU.
         *
         * @param seconds CPU seconds, at least 1
         * @return this builder
         */
        public Builder cpuSeconds(long seconds) {
            this.cpuSeconds = atLeast("cpuSeconds", seconds, 1);
            return this;
        }

        /**
         * Sets RLIMIT_AS.
         *
         * @param bytes at least 1024 (the shell's unit is 1 KiB); rounded down to a multiple of 1024
         * @return this builder
         */
        public Builder addressSpaceBytes(long bytes) {
            this.addressSpaceBytes = atLeast("addressSpaceBytes", bytes, 1024);
            return this;
        }

        /**
         * Sets RLIMIT_NOFILE.
         *
         * @param count at least 1
         * @return this builder
         */
        public Builder openFiles(long count) {
            this.openFiles = atLeast("openFiles", count, 1);
            return this;
        }

        /**
         * Sets RLIMIT_NPROC; see {@link ResourceLimits} for whom it counts.
         *
         * @param count at least 1
         * @return this builder
         */
        public Builder processes(long count) {
            this.processes = atLeast("processes", count, 1);
            return this;
        }

        /**
         * Sets RLIMIT_FSIZE.
         *
         * @param bytes at least 0 (0: the child cannot grow any file); rounded down to a multiple of 512
         * @return this builder
         */
        public Builder fileSizeBytes(long bytes) {
            this.fileSizeBytes = atLeast("fileSizeBytes", bytes, 0);
            return this;
        }

        /** {@return the limits set so far} */
        public ResourceLimits build() {
            return new ResourceLimits(this);
        }

        private static long atLeast(String name, long value, long min) {
            if (value < min) {
                throw new InvalidArgumentException(name + " < " + min + ": " + value);
            }
            return value;
        }
    }
}
