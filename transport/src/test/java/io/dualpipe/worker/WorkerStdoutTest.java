package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A worker's stdout carries frames only: a stray {@code System.out.println} in a task or handler, and
 * a warning of the worker's JVM at start, land on stderr and cost the pool nothing.
 */
class WorkerStdoutTest {

    @Test
    @Timeout(60)
    void strayPrintsInTasksAndHandlersGoToStderrAndEveryTaskIsAnswered(@TempDir Path dir) throws Exception {
        Path stderr = dir.resolve("worker.err");
        try (EventLoop loop = EventLoop.create("pool")) {
            List<Envelope> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
            CompletableFuture<Void> acked = new CompletableFuture<>();
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(StrayPrintWorker.class).stderrAppendTo(stderr))
                    .workers(1).loop(loop)
                    .onMessage(e -> {
                        messages.add(e);
                        if (e.is("ACK")) {
                            acked.complete(null);
                        }
                    })
                    .start();
            List<LoopFuture<Object>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                results.add(pool.submit(i));
            }
            for (int i = 0; i < 20; i++) {
                assertEquals((long) i * i, ((Number) results.get(i).get(30, TimeUnit.SECONDS)).longValue(), "task " + i);
            }
            pool.broadcast("CONFIG", 1);
            acked.get(30, TimeUnit.SECONDS);
            assertEquals(List.of(ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
            assertEquals(21, messages.size(), "20 PROGRESS and one ACK: " + messages);
        }
        String err = Files.readString(stderr);
        assertTrue(err.contains("stray task 0\nstray after progress 0\n"), err);
        assertTrue(err.contains("stray after progress 19\n"), err);
        assertTrue(err.contains("stray handler CONFIG\n"), err);
    }

    @Test
    @Timeout(60)
    void aJvmWarningAtStartDoesNotCostTheWorker(@TempDir Path dir) throws Exception {
        String warning = "[warning][pagesize] UseLargePages disabled";
        assumeTrue(plainJavaStdout("-XX:+UseLargePages", "-version").contains(warning),
                "premise: without JavaChild's options, this JVM writes the warning to stdout");
        Path stderr = dir.resolve("worker.err");
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.of(SquareWorker.class).jvmOptions("-XX:+UseLargePages")
                            .processBuilder().stderrAppendTo(stderr))
                    .workers(1).loop(loop).start();
            assertEquals(49L, ((Number) pool.submit(7).get(30, TimeUnit.SECONDS)).longValue());
            assertEquals(List.of(ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
        }
        assertTrue(Files.readString(stderr).contains(warning), "the warning is kept, on stderr");
    }

    private static String plainJavaStdout(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(JavaChild.of(SquareWorker.class).command().get(0)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "java -version did not end");
        return out.toString(StandardCharsets.UTF_8);
    }
}
