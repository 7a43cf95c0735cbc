package io.dualpipe.core;

import io.dualpipe.core.internal.Native;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Helpers for tests over real fds. Nothing here sleeps to synchronise: {@link #await} polls a
 * condition and fails after a bound.
 */
public final class TestSupport {
    /** x86_64 syscall numbers as shown in /proc/self/task/TID/syscall. */
    public static final Set<Integer> EPOLL_WAIT_SYSCALLS = Set.of(232, 281, 441);
    public static final Set<Integer> READ_SYSCALLS = Set.of(0);

    private TestSupport() {
    }

    /**
     * The open fds of the kinds DualPipe creates, fd number -> what /proc says it is: pipes, sockets,
     * epoll fds, eventfds, pidfds, pseudo-terminals, and files under the temporary directory (the
     * FIFOs tests make there). The JVM opens files of its own at any time (jars and modules lazily
     * and for good; JDK 17's container support opens /sys/fs/cgroup/... from JIT compiler threads
     * for microseconds), so a count over all fds is flaky.
     */
    public static java.util.SortedMap<Integer, String> fdSnapshot() {
        java.util.SortedMap<Integer, String> out = new java.util.TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : ds) {
                int fd = Integer.parseInt(p.getFileName().toString());
                String target = fdTarget(fd);
                if (target != null && isLibraryKind(target)) {
                    out.put(fd, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * {@link #fdSnapshot()} less sockets, for tests that make none: the test JVM opens a socket of
     * its own when the first loop of a fork starts.
     */
    public static java.util.SortedMap<Integer, String> fdSnapshotWithoutSockets() {
        java.util.SortedMap<Integer, String> m = fdSnapshot();
        m.values().removeIf(t -> t.startsWith("socket:"));
        return m;
    }

    private static final List<String> TEMP_DIRS = tempDirs();

    private static boolean isLibraryKind(String target) {
        if (target.startsWith("pipe:") || target.startsWith("socket:") || target.startsWith("pidfd:")
                || target.equals("anon_inode:[eventpoll]") || target.equals("anon_inode:[eventfd]")
                || target.equals("anon_inode:[pidfd]")
                || target.equals("/dev/ptmx") || target.startsWith("/dev/pts/")) {
            return true;
        }
        return TEMP_DIRS.stream().anyMatch(target::startsWith);
    }

    private static List<String> tempDirs() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
        Set<String> dirs = new java.util.TreeSet<>();
        dirs.add(tmp.toString().endsWith("/") ? tmp.toString() : tmp + "/");
        try {
            Path real = tmp.toRealPath();
            dirs.add(real.toString().endsWith("/") ? real.toString() : real + "/");
        } catch (IOException e) {
            // no such directory: nothing of ours can be open under it
        }
        return List.copyOf(dirs);
    }

    /** Number of fds of the kinds DualPipe creates open in this process (see {@link #fdSnapshot()}). */
    public static int ipcFdCount() {
        return fdSnapshot().size();
    }

    /**
     * Fails, naming the extra and the missing fds and listing both, unless the fds of the kinds
     * DualPipe creates are exactly those of {@code before}. Checked once: the callers' work (closing
     * a selector, a loop, a channel) releases before it returns.
     */
    public static void assertFdsBackTo(java.util.SortedMap<Integer, String> before) {
        java.util.SortedMap<Integer, String> now = fdSnapshot();
        if (!now.equals(before)) {
            java.util.SortedMap<Integer, String> extra = new java.util.TreeMap<>(now);
            extra.entrySet().removeAll(before.entrySet());
            java.util.SortedMap<Integer, String> missing = new java.util.TreeMap<>(before);
            missing.entrySet().removeAll(now.entrySet());
            throw new AssertionError("fds: " + now.size() + ", baseline " + before.size()
                    + "; extra " + extra + ", missing " + missing + "\n  baseline: " + before + "\n  now: " + now);
        }
    }

    /** True when {@code fd} is an open descriptor of this process. */
    public static boolean isOpen(int fd) {
        return Native.LIBC.fcntl(fd, Native.F_GETFD, 0) >= 0;
    }

    /** What /proc says {@code fd} is ("pipe:[123]", "anon_inode:[eventfd]"), or null when closed. */
    public static String fdTarget(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException e) {
            return null;
        }
    }

    /** The soft RLIMIT_NOFILE of this process, from /proc/self/limits. */
    public static long softFdLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                    return "unlimited".equals(f[0]) ? Long.MAX_VALUE : Long.parseLong(f[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no 'Max open files' in /proc/self/limits");
    }

    /** Waits until {@code condition} holds; fails with {@code what} after {@code timeout}. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int spins = 0;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(50_000);
            }
        }
    }

    public static void await(String what, BooleanSupplier condition) {
        await(what, Duration.ofSeconds(10), condition);
    }

    /**
     * Waits until the Java thread named {@code threadName} (matched on the first 15 characters, as
     * the kernel keeps them) is blocked in one of {@code syscalls}, optionally on {@code fd}
     * (first argument; -1 for any).
     */
    public static void awaitInSyscall(String threadName, Set<Integer> syscalls, int fd) {
        String comm = threadName.length() > 15 ? threadName.substring(0, 15) : threadName;
        await(threadName + " blocked in syscall " + syscalls + (fd >= 0 ? " on fd " + fd : ""), () -> {
            for (Path task : tasks()) {
                try {
                    if (!comm.equals(Files.readString(task.resolve("comm")).trim())) {
                        continue;
                    }
                    String[] f = Files.readString(task.resolve("syscall")).trim().split("\\s+");
                    if (f.length < 2 || !f[0].matches("\\d+") || !syscalls.contains(Integer.parseInt(f[0]))) {
                        continue;
                    }
                    if (fd < 0 || Long.decode(f[1]) == fd) {
                        return true;
                    }
                } catch (IOException | RuntimeException e) {
                    // the task ended meanwhile
                }
            }
            return false;
        });
    }

    private static List<Path> tasks() {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            ds.forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** True while a live thread has exactly this name. */
    public static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive() && name.equals(t.getName()));
    }

    /** Milliseconds elapsed since {@code startNanos}. */
    public static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
