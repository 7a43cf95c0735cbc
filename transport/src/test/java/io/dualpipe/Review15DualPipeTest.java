package io.dualpipe;

import io.dualpipe.core.BlockingOnLoopException;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.line.LineTooLongException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.StderrMode;
import io.dualpipe.process.StdinMode;
import io.dualpipe.process.StdoutMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 15: the blocking facade as a long-running server meets it. Children that stall, die
 * mid-line, flood stderr; timeouts while bytes arrive; calls on the loop thread; interrupts; close
 * racing a read; builders the facade cannot serve.
 */
class Review15DualPipeTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration SHORT = Duration.ofMillis(200);
    private final List<DualPipe> pipes = new ArrayList<>();

    private DualPipe spawn(String... command) {
        return keep(DualPipe.spawn(command));
    }

    private DualPipe keep(DualPipe p) {
        pipes.add(p);
        return p;
    }

    @AfterEach
    void closeAll() {
        for (DualPipe p : pipes) {
            p.close(Duration.ZERO);
        }
    }

    /** What {@code call} threw on the pipe's loop thread, or null if it returned. */
    private static Throwable onLoop(DualPipe p, Runnable call) throws Exception {
        return TestLoops.onLoop(p.process().loop(), () -> {
            try {
                call.run();
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
    }

    // ---- on the loop thread ----

    @Test
    @Timeout(30)
    void readlineOnTheLoopThreadFailsFastAndLosesNoBytes() throws Exception {
        DualPipe cat = spawn("cat");
        assertInstanceOf(BlockingOnLoopException.class, onLoop(cat, () -> cat.readline(WAIT)));
        cat.write("after\n");
        assertEquals("after", cat.readline(WAIT), "the bytes of the read the loop-thread call issued");
    }

    @Test
    @Timeout(30)
    void readOnTheLoopThreadFailsFastAndLosesNoBytes() throws Exception {
        DualPipe cat = spawn("cat");
        assertInstanceOf(BlockingOnLoopException.class, onLoop(cat, () -> cat.read(10, WAIT)));
        cat.write("x");
        assertArrayEquals(new byte[] {'x'}, cat.read(10, WAIT));
    }

    @Test
    @Timeout(30)
    void readAllOnTheLoopThreadFailsFastAndLosesNoBytes() throws Exception {
        DualPipe cat = spawn("cat");
        assertInstanceOf(BlockingOnLoopException.class, onLoop(cat, () -> cat.readAll(WAIT)));
        cat.write("all");
        cat.process().stdin().shutdownOutput();
        assertEquals("all", new String(cat.readAll(WAIT), StandardCharsets.US_ASCII));
    }

    @Test
    @Timeout(30)
    void closeOnTheLoopThreadFailsFastAndLeavesThePipeAsItWas() throws Exception {
        DualPipe cat = spawn("cat");
        assertInstanceOf(BlockingOnLoopException.class, onLoop(cat, cat::close));
        assertTrue(cat.process().isAlive(), "close() on the loop thread must not have stopped the child");
        cat.write("still\n");
        assertEquals("still", cat.readline(WAIT));
        assertEquals(ExitStatus.ofExitCode(0), cat.close().status());
    }

    @Test
    @Timeout(30)
    void closeInAnOnExitCallbackOnTheLoopThreadStillWorks() throws Exception {
        DualPipe sh = spawn("sh", "-c", "exit 6");
        CompletableFuture<DualPipe.Result> closed = sh.process().onExit().thenApply(status -> sh.close());
        assertEquals(6, closed.get(20, TimeUnit.SECONDS).status().exitCode());
        assertSame(closed.get(), onLoopResult(sh));
    }

    private static DualPipe.Result onLoopResult(DualPipe p) throws Exception {
        return TestLoops.onLoop(p.process().loop(), p::close);
    }

    @Test
    @Timeout(30)
    void flushOnTheLoopThreadFailsFast() throws Exception {
        DualPipe sleeper = spawn("sleep", "60");
        sleeper.write(new byte[1 << 20]); // more than the pipe holds: the write stays queued
        assertInstanceOf(BlockingOnLoopException.class, onLoop(sleeper, () -> sleeper.flush(WAIT)));
    }

    // ---- timeouts, interrupts, races ----

    @Test
    @Timeout(60)
    void timeoutsWhileBytesArriveNeitherLoseNorDuplicateNorReorder() throws Exception {
        DualPipe cat = spawn("cat");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            expected.append(i).append(i % 7 == 0 ? "-a-somewhat-longer-line-" + "x".repeat(i % 300) : "").append('\n');
        }
        byte[] all = expected.toString().getBytes(StandardCharsets.US_ASCII);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            for (int off = 0; off < all.length; ) {
                int n = Math.min(1 + (off * 31) % 5000, all.length - off);
                cat.write(java.util.Arrays.copyOfRange(all, off, off + n));
                off += n;
            }
            cat.process().stdin().shutdownOutput();
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        Duration[] timeouts = {Duration.ZERO, Duration.ofNanos(1), Duration.ofNanos(50_000), Duration.ofMillis(1)};
        int timedOut = 0;
        for (int call = 0; ; call++) {
            Duration t = timeouts[call % timeouts.length];
            try {
                if (call % 3 == 0) {
                    byte[] b = cat.read(1 + call % 97, t);
                    if (b.length == 0) {
                        break;
                    }
                    got.writeBytes(b);
                } else {
                    String line = cat.readline(t);
                    if (line == null) {
                        break;
                    }
                    got.writeBytes((line + "\n").getBytes(StandardCharsets.US_ASCII));
                }
            } catch (WaitTimeoutException e) {
                timedOut++;
            }
        }
        writer.get(30, TimeUnit.SECONDS);
        assertEquals(expected.toString(), got.toString(StandardCharsets.US_ASCII), "after " + timedOut + " timeouts");
    }

    @Test
    @Timeout(30)
    void anInterruptedReadlineKeepsItsReadForTheNextCall() {
        DualPipe cat = spawn("cat");
        Thread.currentThread().interrupt();
        assertThrows(WaitInterruptedException.class, () -> cat.readline(WAIT));
        assertTrue(Thread.interrupted(), "the interrupt status is set again");
        cat.write("x\n");
        assertEquals("x", cat.readline(WAIT));
        Thread.currentThread().interrupt();
        assertThrows(WaitInterruptedException.class, () -> cat.read(5, WAIT));
        assertTrue(Thread.interrupted());
        cat.write("yz");
        assertEquals("yz", readExactly(cat, 2));
    }

    @Test
    @Timeout(30)
    void anInterruptWhileBlockedWakesTheReaderTyped() throws Exception {
        DualPipe cat = spawn("cat");
        CompletableFuture<Thread> started = new CompletableFuture<>();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            started.complete(Thread.currentThread());
            try {
                cat.readline(Duration.ofSeconds(60));
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        reader.start();
        started.get(10, TimeUnit.SECONDS).interrupt();
        assertInstanceOf(WaitInterruptedException.class, outcome.get(20, TimeUnit.SECONDS));
        reader.join(10_000);
        cat.write("next\n");
        assertEquals("next", cat.readline(WAIT));
    }

    @Test
    @Timeout(40)
    void closeRacingABlockedReadWakesItWhileAGrandchildStillHoldsStdout() throws Exception {
        // The grandchild keeps stdout open after the child is gone: only close() can end that read.
        DualPipe sh = spawn("sh", "-c", "sleep 60 & echo $!; exec sleep 60");
        long grandchild = Long.parseLong(sh.readline(WAIT));
        try {
            CompletableFuture<Object> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    return sh.readline(Duration.ofSeconds(60));
                } catch (Throwable t) {
                    return t;
                }
            });
            DualPipe.Result r = sh.close(Duration.ZERO);
            assertEquals(ExitStatus.ofSignal(15, false), r.status());
            Object o = outcome.get(20, TimeUnit.SECONDS);
            assertTrue(o == null || o instanceof ChannelClosedException, "a blocked read after close: " + o);
        } finally {
            ProcessHandle.of(grandchild).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    @Timeout(30)
    void concurrentClosesReturnOneResult() throws Exception {
        DualPipe sleeper = spawn("sleep", "60");
        CompletableFuture<DualPipe.Result> other = CompletableFuture.supplyAsync(() -> sleeper.close(Duration.ZERO));
        DualPipe.Result mine = sleeper.close(Duration.ZERO);
        assertSame(mine, other.get(20, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(30)
    void aReadlineWaitingForAnotherThreadsReadStillHonoursItsOwnTimeout() throws Exception {
        DualPipe cat = spawn("cat");
        CompletableFuture<Thread> started = new CompletableFuture<>();
        CompletableFuture<Object> slow = new CompletableFuture<>();
        Thread holder = new Thread(() -> {
            started.complete(Thread.currentThread());
            try {
                slow.complete(cat.readline(Duration.ofSeconds(60)));
            } catch (Throwable t) {
                slow.complete(t);
            }
        });
        holder.start();
        Thread h = started.get(10, TimeUnit.SECONDS);
        Leaks.await(() -> "the first reader parked in its wait: " + h.getState(), () -> h.getState() == Thread.State.TIMED_WAITING);
        CompletableFuture<Object> quick = CompletableFuture.supplyAsync(() -> {
            try {
                return cat.readline(SHORT);
            } catch (Throwable t) {
                return t;
            }
        });
        Object q = quick.get(20, TimeUnit.SECONDS); // 60 s before the fix: it waited for the other read to end
        assertInstanceOf(WaitTimeoutException.class, q);
        Object z = CompletableFuture.supplyAsync(() -> {
            try {
                return cat.read(10, Duration.ZERO);
            } catch (Throwable t) {
                return t;
            }
        }).get(20, TimeUnit.SECONDS);
        assertInstanceOf(WaitTimeoutException.class, z);
        cat.write("x\n");
        assertEquals("x", slow.get(20, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(60)
    void callsOnTheLoopThreadWhileAnotherThreadReadsFailFastInsteadOfStallingTheLoop() throws Exception {
        DualPipe cat = spawn("cat");
        CompletableFuture<Thread> started = new CompletableFuture<>();
        CompletableFuture<Object> slow = new CompletableFuture<>();
        Thread holder = new Thread(() -> {
            started.complete(Thread.currentThread());
            try {
                slow.complete(cat.readline(Duration.ofSeconds(45)));
            } catch (Throwable t) {
                slow.complete(t);
            }
        });
        holder.start();
        Thread h = started.get(10, TimeUnit.SECONDS);
        Leaks.await(() -> "the first reader parked in its wait: " + h.getState(), () -> h.getState() == Thread.State.TIMED_WAITING);
        List<Runnable> calls = List.of(() -> cat.poll(10), cat::pollLine, cat::isEndOfStream,
                () -> cat.readline(Duration.ZERO), () -> cat.read(10, SHORT));
        for (Runnable call : calls) {
            CompletableFuture<Throwable> onLoop = new CompletableFuture<>();
            cat.process().loop().execute(() -> {
                try {
                    call.run();
                    onLoop.complete(null);
                } catch (Throwable t) {
                    onLoop.complete(t);
                }
            });
            // Before the fix the loop thread waited for the read lock, which the other reader held
            // until its 45 s were up, since only that loop could complete its read.
            assertInstanceOf(BlockingOnLoopException.class, onLoop.get(20, TimeUnit.SECONDS));
        }
        cat.write("x\n");
        assertEquals("x", slow.get(20, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(30)
    void closeEndsAFlushWaitingForAChildThatDoesNotRead() throws Exception {
        DualPipe sleeper = spawn("sleep", "60");
        sleeper.write(new byte[1 << 20]);
        CompletableFuture<Throwable> flush = CompletableFuture.supplyAsync(() -> {
            try {
                sleeper.flush(Duration.ofSeconds(60));
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        sleeper.close(Duration.ZERO);
        assertInstanceOf(DualPipeException.class, flush.get(20, TimeUnit.SECONDS));
    }

    // ---- children that stall, die, flood ----

    @Test
    @Timeout(60)
    void aHugeLineIsReportedOnceDroppedAcrossTimeoutsAndTheNextLineComes() {
        DualPipe sh = spawn("sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x; read go; echo; echo ok");
        assertThrows(LineTooLongException.class, () -> sh.readline(WAIT));
        assertThrows(WaitTimeoutException.class, () -> sh.readline(SHORT)); // still dropping, no newline yet
        assertThrows(WaitTimeoutException.class, () -> sh.readline(Duration.ZERO));
        sh.write("go\n");
        assertEquals("ok", sh.readline(WAIT));
        assertNull(sh.readline(WAIT));
    }

    @Test
    @Timeout(30)
    void halfALineThenSigkillIsTheLastLineOnce() {
        DualPipe sh = spawn("sh", "-c", "printf abc; exec sleep 60");
        WaitTimeoutException e = assertThrows(WaitTimeoutException.class, () -> sh.readline(SHORT));
        assertTrue(e.getMessage().contains("without its newline") || e.getMessage().contains("no complete line"), e.getMessage());
        assertTrue(sh.process().signal(9));
        assertEquals("abc", sh.readline(WAIT));
        assertNull(sh.readline(WAIT));
        assertNull(sh.readline(Duration.ZERO));
        assertArrayEquals(new byte[0], sh.read(Integer.MAX_VALUE, WAIT));
        assertTrue(sh.isEndOfStream());
        assertEquals(9, sh.close().status().signal());
    }

    @Test
    @Timeout(30)
    void sigkillDuringABlockedReadEndsItWithTheEndOfOutput() throws Exception {
        DualPipe sleeper = spawn("sleep", "60");
        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> sleeper.read(10, Duration.ofSeconds(60)));
        assertTrue(sleeper.process().signal(9));
        assertArrayEquals(new byte[0], read.get(20, TimeUnit.SECONDS));
        assertEquals(9, sleeper.close().status().signal());
    }

    @Test
    @Timeout(40)
    void aStderrFloodWithTheDefaultTailNeverStallsStdout() {
        DualPipe p = keep(DualPipe.spawn(ChildProcess.builder("sh", "-c", "head -c 8000000 /dev/zero >&2; echo done")));
        assertEquals("done", p.readline(Duration.ofSeconds(20)));
        assertEquals(0, p.close().status().exitCode());
    }

    @Test
    @Timeout(40)
    void closeDrainsAStderrPipeNobodyReadsSoTheChildExits() {
        DualPipe p = keep(DualPipe.spawn(ChildProcess.builder("sh", "-c", "head -c 8000000 /dev/zero >&2; exit 5")
                .stderr(StderrMode.PIPE)));
        assertEquals(5, p.close(Duration.ofSeconds(20)).status().exitCode());
    }

    @Test
    @Timeout(30)
    void anOverLongLineArrivingInPiecesIsReportedOnceAndTheNextLineComes() {
        DualPipe cat = keep(DualPipe.spawn(ChildProcess.builder("cat").maxLineLength(10)));
        cat.write("0123456789AB"); // 12 bytes, no newline: over the limit before its end
        assertThrows(LineTooLongException.class, () -> cat.readline(WAIT));
        cat.write("CDEFGHIJ");
        cat.write("KL\nok\n");
        assertEquals("ok", cat.readline(WAIT));
        cat.write("0123456789\r"); // 11 bytes: may still be a CRLF line of exactly 10
        assertThrows(WaitTimeoutException.class, () -> cat.readline(SHORT));
        cat.write("\n");
        assertEquals("0123456789", cat.readline(WAIT));
        cat.write("0123456789A\nnext\n"); // whole, in one write
        assertThrows(LineTooLongException.class, () -> cat.readline(WAIT));
        assertEquals("next", cat.readline(WAIT));
    }

    @Test
    @Timeout(30)
    void readSizesAreCheckedAndAHugeOneIsFine() {
        DualPipe p = spawn("printf", "0123456789");
        InvalidArgumentException zero = assertThrows(InvalidArgumentException.class, () -> p.read(0, WAIT));
        assertTrue(zero.getMessage().contains("size"), zero.getMessage());
        assertThrows(InvalidArgumentException.class, () -> p.read(-1, WAIT));
        assertThrows(InvalidArgumentException.class, () -> p.read(Integer.MIN_VALUE, WAIT));
        assertThrows(InvalidArgumentException.class, () -> p.read(1, Duration.ofNanos(-1)));
        assertThrows(InvalidArgumentException.class, () -> p.read(1, null));
        assertThrows(InvalidArgumentException.class, () -> p.readAll(0, WAIT));
        assertEquals("0123456789", new String(p.readAll(Integer.MAX_VALUE, Duration.ofSeconds(Long.MAX_VALUE)), StandardCharsets.US_ASCII));
        assertArrayEquals(new byte[0], p.read(Integer.MAX_VALUE, Duration.ofSeconds(Long.MAX_VALUE)));
    }

    @Test
    @Timeout(30)
    void aPseudoTerminalChildAndACompletionExecutorServeTheFacadeToo() throws Exception {
        java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            DualPipe cat = keep(DualPipe.spawn(ChildProcess.builder("cat").completeOn(executor)));
            cat.write("on the executor\n");
            assertEquals("on the executor", cat.readline(WAIT));
            assertThrows(WaitTimeoutException.class, () -> cat.readline(Duration.ZERO));
            assertEquals(0, cat.close().status().exitCode());
        } finally {
            executor.shutdownNow();
        }
        DualPipe tty = keep(DualPipe.spawn(ChildProcess.builder("sh", "-c", "stty -echo; echo ready; read x; echo \"got $x\"")
                .pseudoTerminal(true)));
        assertEquals("ready", tty.readline(WAIT));
        tty.writeLine("it");
        assertEquals("got it", tty.readline(WAIT));
        assertNull(tty.readline(WAIT));
        assertEquals(0, tty.close().status().exitCode());
    }

    // ---- builders the facade cannot serve ----

    @Test
    @Timeout(30)
    void aBuilderWhoseStdoutIsNotAPipeIsRefusedBeforeAnyChildRuns() {
        Set<Long> before = Leaks.children();
        try {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> keep(DualPipe.spawn(ChildProcess.builder("sleep", "60").stdout(StdoutMode.DISCARD))));
            assertTrue(e.getMessage().contains("stdout"), e.getMessage());
            assertNoNewChildren(before);
        } finally {
            killNewChildren(before);
        }
    }

    @Test
    @Timeout(30)
    void aCharsetOrLineLimitTheLineDecoderRefusesIsRefusedBeforeAnyChildRuns() {
        Set<Long> before = Leaks.children();
        try {
            assertThrows(InvalidArgumentException.class,
                    () -> keep(DualPipe.spawn(ChildProcess.builder("sleep", "60").charset(StandardCharsets.UTF_16))));
            assertThrows(InvalidArgumentException.class,
                    () -> keep(DualPipe.spawn(ChildProcess.builder("sleep", "60").maxLineLength(Integer.MAX_VALUE))));
            assertNoNewChildren(before);
        } finally {
            killNewChildren(before);
        }
    }

    @Test
    @Timeout(30)
    void closeOfAChildReadingAFileWaitsForItsExit(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("in.txt"), "b\na\nc\n");
        DualPipe sort = keep(DualPipe.spawn(ChildProcess.builder("sort").stdinFrom(input)));
        assertEquals("a\nb\nc\n", new String(sort.readAll(WAIT), StandardCharsets.US_ASCII));
        assertEquals(ExitStatus.ofExitCode(0), sort.close().status());
        DualPipe quiet = keep(DualPipe.spawn(ChildProcess.builder("sh", "-c", "exit 7").stdin(StdinMode.NULL_DEVICE)));
        assertEquals(7, quiet.close().status().exitCode());
    }

    private static void assertNoNewChildren(Set<Long> before) {
        Supplier<Set<Long>> fresh = () -> {
            Set<Long> now = new TreeSet<>(Leaks.children());
            now.removeAll(before);
            return now;
        };
        Leaks.await(() -> "children started by a refused spawn: " + fresh.get(), () -> fresh.get().isEmpty());
    }

    /** Only the children this test started (they are not in {@code before}); none once fixed. */
    private static void killNewChildren(Set<Long> before) {
        for (long pid : Leaks.children()) {
            if (!before.contains(pid)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private static String readExactly(DualPipe p, int n) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < n) {
            byte[] b = p.read(n - out.size(), WAIT);
            if (b.length == 0) {
                throw new DualPipeException("end of output after " + out.size() + " of " + n + " bytes");
            }
            out.writeBytes(b);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
