package io.dualpipe.worker;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A worker child for the tests: squares numbers, reports progress, fails on "boom", answers "pid"
 * with its pid, and on "wait:PATH" blocks until it can lock PATH, so a test holding that lock keeps
 * the worker busy for exactly as long as it needs, without sleeping; "complain:TEXT" writes TEXT
 * to stderr and exits 5. Every other envelope (a
 * broadcast, a sendTo) is acknowledged with {@code ["ACK", pid, parent, [request, data]]}, except
 * "THROW", on which the handler throws.
 */
public final class SquareWorker {
    public static void main(String[] args) {
        Worker.run((data, worker) -> {
            if (data instanceof String s && s.startsWith("wait:")) {
                try (FileChannel gate = FileChannel.open(Path.of(s.substring(5)), StandardOpenOption.WRITE)) {
                    gate.lock().release();
                }
                return 0;
            }
            if ("pid".equals(data)) {
                return worker.pid();
            }
            if ("boom".equals(data)) {
                throw new IllegalStateException("boom asked for");
            }
            if (data instanceof String s && s.startsWith("exitonce:")) {
                // dies the first time it is asked, answers 1 afterwards: a task worth retrying
                try {
                    java.nio.file.Files.createFile(Path.of(s.substring(9)));
                } catch (java.nio.file.FileAlreadyExistsException again) {
                    return 1;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                Runtime.getRuntime().halt(3);
            }
            if ("exit".equals(data)) {
                System.exit(3);
            }
            if (data instanceof String s && s.startsWith("complain:")) {
                // writes its complaint to stderr, then dies in the middle of the task
                System.err.println(s.substring(9));
                System.err.flush();
                Runtime.getRuntime().halt(5);
            }
            long x = ((Number) data).longValue();
            if (x % 100 == 0) {
                worker.send("PROGRESS", x);
            }
            return x * x;
        }, (envelope, worker) -> {
            if (envelope.is("THROW")) {
                throw new IllegalStateException("THROW asked for");
            }
            worker.send("ACK", java.util.List.of(envelope.request(), String.valueOf(envelope.data())));
        });
    }
}
