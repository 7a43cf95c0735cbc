package io.dualpipe.pool;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** Bounded waits and /proc observations for the pool tests. */
final class PoolTestSupport {
    static final long MY_PID = ProcessHandle.current().pid();
    static final Duration STEP = Duration.ofSeconds(30); // generous: python3 takes seconds to start on a loaded machine

    /**
     * A line child for the tests, in Python: evaluates arithmetic; "pid" answers its pid; "skip"
     * answers nothing; "sleep:S" answers "slept" after S seconds; "die" writes to stderr and exits 7;
     * "ping" answers "ready"; "noise:N" writes N bytes to stderr first, then answers "quiet".
     */
    static final String SCRIPT = String.join("\n",
            "import os, sys, time",
            "for line in sys.stdin:",
            "    q = line.strip()",
            "    if q == 'pid': print(os.getpid())",
            "    elif q == 'skip': pass",
            "    elif q.startswith('sleep:'):",
            "        time.sleep(float(q[6:])); print('slept')",
            "    elif q == 'die':",
            "        sys.stderr.write('fatal: asked to die\\n'); sys.stderr.flush(); sys.exit(7)",
            "    elif q == 'ping': print('ready')",
            "    elif q.startswith('noise:'):",
            "        sys.stderr.write('e' * int(q[6:])); sys.stderr.flush(); print('quiet')",
            "    else: print(eval(q))");

    private PoolTestSupport() {
    }

    /** Descriptors of the kinds the library creates: pipes and anonymous inodes (pidfd, eventpoll, eventfd). */
    static int libraryFds() {
        int n = 0;
        File[] fds = new File("/proc/self/fd").listFiles();
        if (fds != null) {
            for (File f : fds) {
                try {
                    String t = Files.readSymbolicLink(f.toPath()).toString();
                    if (t.startsWith("pipe:") || t.startsWith("anon_inode:")) {
                        n++;
                    }
                } catch (IOException gone) {
                    // closed while listing
                }
            }
        }
        return n;
    }

    static int zombieCount() {
        int z = 0;
        File[] procs = new File("/proc").listFiles();
        if (procs == null) {
            return -1;
        }
        for (File p : procs) {
            if (!Character.isDigit(p.getName().charAt(0))) {
                continue;
            }
            String[] f = statFields(Long.parseLong(p.getName()));
            if (f != null && f[0].equals("Z") && Long.parseLong(f[1]) == MY_PID) {
                z++;
            }
        }
        return z;
    }

    static String[] statFields(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    /** True when {@code pid} is no child of ours any more: gone, or another process reusing the number. */
    static boolean isGone(long pid) {
        String[] f = statFields(pid);
        return f == null || Long.parseLong(f[1]) != MY_PID;
    }

    static boolean allGone(List<Long> pids) {
        return pids.stream().allMatch(PoolTestSupport::isGone);
    }

    static void await(Supplier<String> what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 100_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + timeout + ": " + what.get());
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 20_000_000);
        }
    }

    static void await(String what, BooleanSupplier condition) {
        await(() -> what, STEP, condition);
    }

    static <T> T get(Future<T> f) throws Exception {
        return f.get(STEP.toMillis(), TimeUnit.MILLISECONDS);
    }

    static <X extends Throwable> X failsWith(Class<X> type, Future<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(STEP.toMillis(), TimeUnit.MILLISECONDS),
                "expected " + type.getSimpleName());
        Throwable t = e.getCause();
        if (!type.isInstance(t)) {
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + t, t);
        }
        return type.cast(t);
    }
}
