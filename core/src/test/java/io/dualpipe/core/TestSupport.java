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

    /** Number of open fds of this process (the directory stream's own fd included, consistently). */
    public static int fdCount() {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            int n = 0;
            for (Path ignored : ds) {
                n++;
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The fds of the kinds DualPipe creates (pipes, eventfds, epoll fds, sockets are left out: the
     * test harness opens its own), fd number -> what it is. The JVM and surefire open jars, /dev/random
     * and sockets lazily, which would make a plain count flaky.
     */
    public static java.util.SortedMap<Integer, String> fdSnapshot() {
        java.util.SortedMap<Integer, String> out = new java.util.TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : ds) {
                int fd = Integer.parseInt(p.getFileName().toString());
                String target = fdTarget(fd);
                if (target != null && (target.startsWith("pipe:") || target.startsWith("anon_inode:") || target.contains("dualpipe-fifos"))) {
                    out.put(fd, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Number of pipe, eventfd and epoll fds open in this process (see {@link #fdSnapshot()}). */
    public static int ipcFdCount() {
        return fdSnapshot().size();
    }

    /** Fails, naming the extra or missing fds, unless the open pipe/eventfd/epoll fds are those of {@code before}. */
    public static void assertFdsBackTo(java.util.SortedMap<Integer, String> before) {
        java.util.SortedMap<Integer, String> now = fdSnapshot();
        if (!now.equals(before)) {
            java.util.SortedMap<Integer, String> extra = new java.util.TreeMap<>(now);
            extra.entrySet().removeAll(before.entrySet());
            java.util.SortedMap<Integer, String> missing = new java.util.TreeMap<>(before);
            missing.entrySet().removeAll(now.entrySet());
            throw new AssertionError("pipe/eventfd/epoll fds: " + now.size() + ", baseline " + before.size()
                    + "; extra " + extra + ", missing " + missing);
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
