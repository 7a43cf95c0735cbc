package io.dualpipe.fifo;

import io.dualpipe.core.EventLoop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Shared helpers: loop round trips instead of sleeps, /proc fd inspection, unrelated writer processes. */
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
     * Waits until fds closed on the loop are really gone. A closed channel's fd is released by the
     * selector pass after the close; the first round trip can run in the same task batch as the
     * close, the second runs only after the loop has selected again.
     */
    static void settle(EventLoop loop) throws Exception {
        roundTrip(loop);
        roundTrip(loop);
    }

    /** How many fds this process has open. */
    static int fdCount() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.count() - 1; // minus the fd of this listing
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
