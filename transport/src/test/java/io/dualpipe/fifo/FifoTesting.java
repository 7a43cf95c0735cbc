package io.dualpipe.fifo;

import io.dualpipe.core.EventLoop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** Shared helpers: loop round trips and loop timers instead of sleeps, /proc fd inspection, unrelated writer processes. */
final class FifoTesting {
    private FifoTesting() {
    }

    /** Runs a task on the loop and waits for it: everything handed to the loop before has run. */
    static void roundTrip(EventLoop loop) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> done.complete(null));
        done.get(5, TimeUnit.SECONDS);
    }

    /**
     * Waits {@code millis} on the loop's own timer. The loop selects while the timer is not due, so
     * readiness that was pending when this was called (a writer's hang-up) has been dispatched when
     * it returns.
     */
    static void loopTimer(EventLoop loop, long millis) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.schedule(() -> done.complete(null), millis, TimeUnit.MILLISECONDS);
        done.get(5, TimeUnit.SECONDS);
    }

    /**
     * Waits until {@code condition} holds, checking it on the loop thread once per millisecond of the
     * loop's timer. For effects that are asynchronous by design, such as a closed channel's fd, which
     * the selector releases only in its next pass after the close.
     */
    static void awaitOnLoop(EventLoop loop, String what, BooleanSupplier condition) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Runnable check = new Runnable() {
            @Override
            public void run() {
                if (condition.getAsBoolean()) {
                    done.complete(null);
                } else if (System.nanoTime() - deadline > 0) {
                    done.completeExceptionally(new AssertionError("still not true after 5 s: " + what));
                } else {
                    loop.schedule(this, 1, TimeUnit.MILLISECONDS);
                }
            }
        };
        loop.execute(check);
        try {
            done.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (AssertionError) e.getCause();
        }
    }

    /** True when no fd of this process is open on {@code file}; for {@link #awaitOnLoop}. */
    static boolean noFdsOn(Path file) {
        try {
            return fdsOn(file).isEmpty();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The fds of this process open on {@code file}. */
    static List<Integer> fdsOn(Path file) throws IOException {
        Path real = file.toRealPath();
        List<Integer> out = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(real)) {
                        out.add(Integer.parseInt(fd.getFileName().toString()));
                    }
                } catch (IOException gone) {
                    // closed while listing
                }
            }
        }
        return out;
    }

    /** The open-file flags of {@code fd}, from /proc/self/fdinfo (printed in octal there). */
    static int openFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring("flags:".length()).trim(), 8);
            }
        }
        throw new IOException("no flags in /proc/self/fdinfo/" + fd);
    }

    /**
     * Starts {@code sh -c 'printf ... > fifo'}: a process that shares nothing with us but the path.
     * Its open(2) is a plain blocking one, as any shell script's would be.
     */
    static Process shWriter(Path fifo, String... lines) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "fifo=$1; shift; for l in \"$@\"; do echo \"$l\"; done > \"$fifo\"", "sh", fifo.toString()));
        cmd.addAll(List.of(lines));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
