package io.dualpipe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The leak checks of every transport test package: descriptors and zombies of this JVM, and the
 * descriptors of a child, all from /proc (Linux).
 *
 * <p>Only the kinds of descriptors the library creates are counted: pipes, sockets, epoll fds,
 * eventfds, pidfds, pseudo-terminals, and files under the temporary directory (the FIFOs, socket
 * files and redirection files tests make there). The JVM opens files of its own at any time: jars
 * and modules lazily and for good, and JDK 17's container support opens
 * /sys/fs/cgroup/.../memory.limit_in_bytes from JIT compiler threads for microseconds, so a
 * one-shot count over all fds was flaky.
 *
 * <p>A check compares with a {@link Baseline} taken before the work: every counted fd open now must
 * have been open, on the same file, at the baseline. Fds that closed meanwhile (an earlier test's
 * child on a shared loop, the JDK's own child pipes) are fine; a leak cannot hide behind them as it
 * could behind a count. The {@code assert} forms check once, for work that promises to release
 * before it returns; the {@code await} forms poll with a deadline, for releases that happen on the
 * loop thread after an event, where no future says "released".
 */
public final class Leaks {
    /** How long a release may take before it counts as a leak. */
    public static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final long MY_PID = ProcessHandle.current().pid();
    private static final List<String> TEMP_DIRS = tempDirs();
    /** read(2) as /proc/PID/syscall shows it, per architecture. */
    private static final int READ_SYSCALL = "aarch64".equals(System.getProperty("os.arch")) ? 63 : 0;

    private Leaks() {
    }

    /** The fds (see {@link #fds()}) and the children of this JVM at one moment. */
    public record Baseline(SortedMap<Integer, String> fds, Set<Long> children) {
    }

    public static Baseline baseline() {
        return new Baseline(Collections.unmodifiableSortedMap(fds()), Collections.unmodifiableSet(children()));
    }

    /** The open fds of the kinds the library creates, fd number -> what /proc says it is ("pipe:[123]"). */
    public static SortedMap<Integer, String> fds() {
        SortedMap<Integer, String> out = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : ds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException closedMeanwhile) {
                    continue;
                }
                if (isCounted(target)) {
                    out.put(Integer.parseInt(fd.getFileName().toString()), target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static boolean isCounted(String target) {
        if (target.startsWith("pipe:") || target.startsWith("socket:") || target.startsWith("pidfd:")
                || target.equals("anon_inode:[eventpoll]") || target.equals("anon_inode:[eventfd]")
                || target.equals("anon_inode:[pidfd]")
                || target.equals("/dev/ptmx") || target.startsWith("/dev/pts/")) {
            return true;
        }
        for (String dir : TEMP_DIRS) {
            if (target.startsWith(dir)) {
                return true;
            }
        }
        return false;
    }

    /** Fails at once, listing both, if a counted fd is open now that was not open at {@code before}. */
    public static void assertNoFdsBeyond(Baseline before) {
        assertNoFdsBeyond(before, "");
    }

    /** As {@link #assertNoFdsBeyond(Baseline)}, naming the moment ({@code when}) in the failure. */
    public static void assertNoFdsBeyond(Baseline before, String when) {
        SortedMap<Integer, String> now = fds();
        if (!beyond(before, now).isEmpty()) {
            throw new AssertionError((when.isEmpty() ? "" : when + ": ") + fdReport(before, now));
        }
    }

    /** Waits up to {@link #DEADLINE} until no counted fd is open that was not open at {@code before}. */
    public static void awaitNoFdsBeyond(Baseline before) {
        awaitNoFdsBeyond(before, 0);
    }

    /** As {@link #awaitNoFdsBeyond(Baseline)}, but content with at most {@code allowed} new fds. */
    public static void awaitNoFdsBeyond(Baseline before, int allowed) {
        await(() -> fdReport(before, fds()) + (allowed > 0 ? " (" + allowed + " allowed)" : ""),
                () -> beyond(before, fds()).size() <= allowed);
    }

    private static SortedMap<Integer, String> beyond(Baseline before, SortedMap<Integer, String> now) {
        SortedMap<Integer, String> extra = new TreeMap<>(now);
        extra.entrySet().removeAll(before.fds().entrySet());
        return extra;
    }

    private static String fdReport(Baseline before, SortedMap<Integer, String> now) {
        SortedMap<Integer, String> gone = new TreeMap<>(before.fds());
        gone.entrySet().removeAll(now.entrySet());
        return "fds beyond the baseline: " + beyond(before, now) + " (closed since: " + gone + ")\n  baseline "
                + before.fds().size() + ": " + before.fds() + "\n  now " + now.size() + ": " + now;
    }

    /** The live and dead children of this JVM. */
    public static Set<Long> children() {
        Set<Long> out = new TreeSet<>();
        forEachChild((pid, state) -> out.add(pid));
        return out;
    }

    /** Children of this JVM in state Z (exited, not reaped). */
    public static List<Long> zombies() {
        List<Long> out = new ArrayList<>();
        forEachChild((pid, state) -> {
            if (state.equals("Z")) {
                out.add(pid);
            }
        });
        return out;
    }

    /**
     * No zombie: fails at once on a zombie that was not yet a child at {@code before} (one this
     * test made and did not reap), then waits up to {@link #DEADLINE} for the others, which an
     * earlier test's child or the JDK's reaper thread may leave for a moment.
     */
    public static void assertNoZombies(Baseline before) {
        List<Long> fresh = new ArrayList<>(zombies());
        fresh.removeAll(before.children());
        if (!fresh.isEmpty()) {
            throw new AssertionError("zombies: " + fresh + " (children at the baseline: " + before.children() + ")");
        }
        await(() -> "zombies: " + zombies(), () -> zombies().isEmpty());
    }

    /** Waits up to {@link #DEADLINE} until no child of this JVM is a zombie. */
    public static void awaitNoZombies() {
        await(() -> "zombies: " + zombies(), () -> zombies().isEmpty());
    }

    private interface ChildVisitor {
        void visit(long pid, String state);
    }

    private static void forEachChild(ChildVisitor visitor) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), p -> Character.isDigit(p.getFileName().toString().charAt(0)))) {
            for (Path p : ds) {
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
                if (Long.parseLong(f[1]) == MY_PID) {
                    visitor.visit(Long.parseLong(p.getFileName().toString()), f[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The fd numbers child {@code pid} has open, sorted. Only meaningful once the child is past its
     * start-up (ld.so and setlocale open and close files): call it after the child answered, or
     * after {@link #awaitBlockedReading}.
     */
    public static List<Integer> fdsOf(long pid) {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : ds) {
                fds.add(Integer.parseInt(fd.getFileName().toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        fds.sort(null);
        return fds;
    }

    /**
     * Waits until child {@code pid} is blocked in read(2) on {@code fd}: for a filter such as cat or
     * wc, that is after its start-up, for it reads its input only then.
     */
    public static void awaitBlockedReading(long pid, int fd) {
        Path syscall = Path.of("/proc/" + pid + "/syscall");
        await(() -> "pid " + pid + " blocked reading fd " + fd + "; /proc says: " + readOrGone(syscall), () -> {
            String[] f = readOrGone(syscall).trim().split("\\s+");
            return f.length > 1 && f[0].equals(String.valueOf(READ_SYSCALL)) && Long.decode(f[1]) == fd;
        });
    }

    private static String readOrGone(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(gone: " + e + ")";
        }
    }

    /**
     * Polls {@code condition} until it holds, failing after {@link #DEADLINE} with {@code what}. For
     * states the JVM has no event for (an fd closed, a process reaped by someone else); the pause
     * grows from 0.1 ms to 20 ms.
     */
    public static void await(Supplier<String> what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        long pause = 100_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + DEADLINE + ": " + what.get());
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 20_000_000);
        }
    }

    private static List<String> tempDirs() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        Set<String> dirs = new TreeSet<>();
        dirs.add(withSlash(tmp.normalize().toString()));
        try {
            dirs.add(withSlash(tmp.toRealPath().toString()));
        } catch (IOException e) {
            // no such directory: nothing of ours can be open under it
        }
        return List.copyOf(dirs);
    }

    private static String withSlash(String dir) {
        return dir.endsWith("/") ? dir : dir + "/";
    }
}
