package io.dualpipe;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 21, adversarial: the splits of DualPipe (Sender, Stopper) and ChildProcessBuilder
 * (Redirects, EnvironmentEdits, StreamSizes) must change no behaviour: writes racing close(), close
 * idempotence from several threads, flush racing close, and a builder reused after start.
 */
class Review21SplitsTest {

    /**
     * Writers race close(): a write either throws or its bytes reach the child, not both, in each
     * writer's order; all closers get the same Result; nothing leaks. Sender.send used to queue the
     * bytes, then throw the first failure of any write: when another writer's write was refused after
     * close() shut stdin, a write queued just before reported that refusal although its bytes were
     * delivered, and a caller that retries or counts sends got a wrong answer.
     */
    @Test
    @Timeout(120)
    void writesRacingCloseDeliverExactlyTheAcceptedOnes(@TempDir Path dir) throws Exception {
        DualPipe.spawn("true").close(); // the shared loop and its fds exist from here on
        Leaks.Baseline before = Leaks.baseline();
        for (int round = 0; round < 30; round++) {
            Path out = dir.resolve("out" + round);
            DualPipe p = DualPipe.spawn(ChildProcess.builder("sh", "-c", "exec cat > \"$0\"", out.toString()));
            int writers = 3;
            Map<Integer, List<Integer>> accepted = new ConcurrentHashMap<>();
            Map<Integer, Throwable> refusals = new ConcurrentHashMap<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int id = w;
                List<Integer> mine = new ArrayList<>();
                accepted.put(id, mine);
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 5_000; i++) {
                        try {
                            p.writeLine(id + " " + i);
                            mine.add(i);
                        } catch (io.dualpipe.core.DualPipeException refused) {
                            refusals.put(id, refused);
                            return; // once refused, this writer stops: what it wrote before must all be there
                        }
                    }
                });
                t.start();
                ts.add(t);
            }
            List<CompletableFuture<DualPipe.Result>> closers = new ArrayList<>();
            go.countDown();
            for (int c = 0; c < 2; c++) {
                CompletableFuture<DualPipe.Result> r = new CompletableFuture<>();
                new Thread(() -> {
                    try {
                        r.complete(p.close(Duration.ofSeconds(10)));
                    } catch (Throwable e) {
                        r.completeExceptionally(e);
                    }
                }).start();
                closers.add(r);
            }
            DualPipe.Result r0 = closers.get(0).get(30, TimeUnit.SECONDS);
            DualPipe.Result r1 = closers.get(1).get(30, TimeUnit.SECONDS);
            assertSame(r0, r1, "both closers get the one Result");
            assertEquals(0, r0.status().exitCode(), String.valueOf(r0));
            for (Thread t : ts) {
                t.join(30_000);
                assertTrue(!t.isAlive());
            }
            assertThrows(ChannelClosedException.class, () -> p.writeLine("late"));
            // What cat got, per writer, in order: exactly the accepted writes.
            Map<Integer, List<Integer>> got = new java.util.HashMap<>();
            for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                got.computeIfAbsent(Integer.parseInt(f[0]), k -> new ArrayList<>()).add(Integer.parseInt(f[1]));
            }
            for (int w = 0; w < writers; w++) {
                List<Integer> sent = accepted.get(w);
                List<Integer> arrived = got.getOrDefault(w, List.of());
                assertEquals(sent.size(), arrived.size(), "round " + round + ", writer " + w + ": accepted " + sent.size() + " lines, the child got "
                        + arrived.size() + "; the write refused: " + refusals.get(w));
                assertEquals(sent, arrived, "round " + round + ", writer " + w + ": in order");
            }
        }
        Leaks.awaitNoFdsBeyond(before);
        Leaks.awaitNoZombies();
    }

    /** flush() racing close() neither deadlocks nor hangs past its bound. */
    @Test
    @Timeout(60)
    void flushRacingCloseEnds() throws Exception {
        for (int round = 0; round < 20; round++) {
            DualPipe p = DualPipe.spawn("cat");
            byte[] chunk = new byte[64 * 1024];
            for (int i = 0; i < 16; i++) {
                p.write(chunk); // more than the pipe holds: cat's output is read by nobody until close discards it
            }
            CompletableFuture<Throwable> flushed = new CompletableFuture<>();
            new Thread(() -> {
                try {
                    p.flush(Duration.ofSeconds(20));
                    flushed.complete(null);
                } catch (Throwable t) {
                    flushed.complete(t);
                }
            }).start();
            DualPipe.Result r = p.close(Duration.ofSeconds(10));
            Throwable t = flushed.get(30, TimeUnit.SECONDS);
            assertTrue(t == null || t instanceof io.dualpipe.core.DualPipeException, String.valueOf(t));
            assertEquals(0, r.status().exitCode(), String.valueOf(r));
        }
        Leaks.awaitNoZombies();
    }

    /** A builder edited after start() changes nothing for the child already started; the environment is copied. */
    @Test
    @Timeout(60)
    void aBuilderReusedAfterStartSharesNothingWithTheRunningChild() throws Exception {
        ChildProcessBuilder b = ChildProcess.builder("sh", "-c", "read x; echo \"$R21=$x\"; echo \"cwd=$(pwd)\"").environment("R21", "first");
        DualPipe first = DualPipe.spawn(b);
        Map<String, String> env = b.environment();
        b.environment("R21", "second").removeEnvironment("PATH").clearEnvironment().environment("R21", "third");
        env.put("R21", "mutated-through-the-old-map");
        first.writeLine("a");
        assertEquals("first=a", first.readline(Duration.ofSeconds(10)));
        first.close();
        // The builder's map after clearEnvironment is a fresh one; the old map handed out is not the child's nor the builder's.
        assertEquals(Map.of("R21", "third"), b.environment());
        DualPipe second = DualPipe.spawn(b.environment("PATH", System.getenv("PATH")));
        second.writeLine("b");
        assertEquals("third=b", second.readline(Duration.ofSeconds(10)));
        second.close();
        Leaks.awaitNoZombies();
    }

    /** No environment edit: the child inherits, and the builder reports null, before and after start. */
    @Test
    @Timeout(30)
    void anUneditedEnvironmentStaysNull() throws Exception {
        ChildProcessBuilder b = ChildProcess.builder("sh", "-c", "echo \"$HOME\"");
        assertNull(b.environment());
        DualPipe p = DualPipe.spawn(b);
        assertEquals(String.valueOf(System.getenv("HOME")), p.readline(Duration.ofSeconds(10)));
        p.close();
        assertNull(b.environment());
        // remove of an absent name still copies on first edit (a map, without that name)
        b.removeEnvironment("R21_ABSENT");
        assertEquals(new HashSet<>(System.getenv().keySet()), new HashSet<>(b.environment().keySet()));
        Set<String> names = b.environment().keySet();
        assertTrue(names.contains("PATH") || System.getenv("PATH") == null);
    }

    /** The redirect rules as before the split: a mode drops the file; stdoutTo and stdoutAppendTo differ in the flag only. */
    @Test
    @Timeout(10)
    void redirectRulesUnchanged(@TempDir Path dir) {
        ChildProcessBuilder b = ChildProcess.builder("true");
        Path f = dir.resolve("f");
        b.stdoutAppendTo(f);
        assertTrue(b.stdoutAppend());
        b.stdout(io.dualpipe.process.StdoutMode.DISCARD);
        assertNull(b.stdoutFile());
        assertTrue(b.stdoutAppend(), "the append flag is left as it was");
        b.stdoutTo(f);
        assertEquals(f, b.stdoutFile());
        assertTrue(!b.stdoutAppend());
        b.stdinFrom(f).stdin(io.dualpipe.process.StdinMode.NULL_DEVICE);
        assertNull(b.stdinFile());
        b.stderrAppendTo(f).stderr(io.dualpipe.process.StderrMode.TAIL);
        assertNull(b.stderrFile());
        assertThrows(io.dualpipe.core.InvalidArgumentException.class, () -> b.writeWaterMarks(5, 4));
        assertEquals(32 * 1024, b.lowWaterMark(), "a refused pair changes neither mark");
        assertEquals(64 * 1024, b.highWaterMark());
    }
}
