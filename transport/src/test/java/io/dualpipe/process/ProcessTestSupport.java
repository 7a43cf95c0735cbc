package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.internal.FdStream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Observations of this JVM and its children for the child-process tests: process states and
 * threads from /proc, and bounded waits (fd and zombie checks: {@link io.dualpipe.Leaks}). Tests synchronise on futures or on {@link #await} with a
 * deadline, never on a fixed sleep.
 */
final class ProcessTestSupport {
    static final long MY_PID = ProcessHandle.current().pid();
    /** How long a single step of a test may take before it counts as hung. */
    static final Duration STEP = Duration.ofSeconds(10);

    private ProcessTestSupport() {
    }

    /** /proc/PID/stat fields after the "(comm)" field: [0]=state, [1]=ppid, [2]=pgrp, ...; null if gone. */
    static String[] statFields(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * True when {@code pid} no longer runs: no /proc entry, or dead and waiting to be reaped. An
     * orphaned grandchild is reaped by PID 1, which in some containers never does it, so a zombie
     * counts as gone.
     */
    static boolean isDead(long pid) {
        String[] f = statFields(pid);
        return f == null || f[0].equals("Z") || f[0].equals("X");
    }

    /** Names of the live threads of this JVM. */
    static Set<String> threadNames() {
        Set<String> names = new TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive()) {
                names.add(t.getName());
            }
        }
        return names;
    }

    /** Waits until {@code condition} holds, failing after {@code timeout}; polls with a short backoff. */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        await(() -> what, timeout, condition);
    }

    /** As {@link #await(String, Duration, BooleanSupplier)}, describing the state only on failure. */
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
        await(what, STEP, condition);
    }

    /** The future's value within {@link #STEP}. */
    static <T> T get(Future<T> f) throws Exception {
        return f.get(STEP.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The exception {@code f} fails with (unwrapped), within {@link #STEP}; fails the test if it succeeds. */
    static Throwable failure(Future<?> f, String what) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(STEP.toMillis(), TimeUnit.MILLISECONDS),
                what);
        return e.getCause();
    }

    static Throwable failure(Future<?> f) {
        return failure(f, "a failure");
    }

    /** Asserts {@code f} fails with an exception of {@code type} and returns it. */
    static <X extends Throwable> X failsWith(Class<X> type, Future<?> f) {
        return failsWith(type, f, type.getSimpleName());
    }

    /** As {@link #failsWith(Class, Future)}, naming {@code what} in the failure message. */
    static <X extends Throwable> X failsWith(Class<X> type, Future<?> f, String what) {
        Throwable t = failure(f, what);
        if (!type.isInstance(t)) {
            throw new AssertionError(what + ": expected " + type.getSimpleName() + " but got " + t, t);
        }
        return type.cast(t);
    }

    /** Runs {@code s} on the loop thread and returns its value. */
    static <T> T onLoop(EventLoop loop, Supplier<T> s) throws Exception {
        return io.dualpipe.TestLoops.onLoop(loop, s);
    }

    /** Bytes a child's output stream holds in memory, read on its loop. */
    static int buffered(ChildProcess p, FdStream s) throws Exception {
        return onLoop(p.loop(), s::bufferedBytes);
    }

    /** A future completing after {@code d} on {@code loop}: the scenario's own wait, not synchronisation. */
    static CompletableFuture<Void> after(EventLoop loop, Duration d) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.schedule(() -> f.complete(null), d.toNanos(), TimeUnit.NANOSECONDS);
        return f;
    }

    static void getWithin(Future<?> f, Duration d) throws InterruptedException, ExecutionException, TimeoutException {
        f.get(d.toMillis(), TimeUnit.MILLISECONDS);
    }
}
