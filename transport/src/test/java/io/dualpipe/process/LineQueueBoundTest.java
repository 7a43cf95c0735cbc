package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.core.line.LineTooLongException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ChildProcess#lines()} with nobody reading holds the child back, whatever its lines cost:
 * empty lines and over-long ones used to be queued for free, so the source was never paused and the
 * heap filled until the loop thread died.
 */
class LineQueueBoundTest {
    /** Far above what a bounded queue lets through (a few hundred KiB), far below what an unbounded one takes in the wait. */
    private static final long MAX_WRITTEN = 16L << 20;

    @Test
    @Timeout(60)
    void emptyLinesNobodyReadsHoldTheChildBack() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-bound-empty");
             ChildProcess yes = ChildProcess.builder("yes", "").loop(loop).start()) {
            LineReader lines = yes.lines();
            long written = awaitHeldBack(yes.pid());
            assertTrue(written < MAX_WRITTEN, "the child wrote " + written + " bytes nobody read");
            int queued = onLoop(loop, lines::queuedLines);
            assertTrue(queued <= 64 * 1024 / LineReader.LINE_OVERHEAD + 1, queued + " lines queued");
            assertTrue(onLoop(loop, loop::inEventLoop), "the loop thread still runs tasks");
            for (int i = 0; i < 5000; i++) { // more than the queue holds: reading resumes the child
                assertEquals("", get(lines.readLine()), "line " + i);
            }
        }
    }

    @Test
    @Timeout(60)
    void overLongLinesNobodyReadsHoldTheChildBack() throws Exception {
        String line = "x".repeat(70_000); // over the 64 KiB default limit
        try (EventLoop loop = EventLoop.create("lines-bound-long");
             ChildProcess yes = ChildProcess.builder("yes", line).loop(loop).start()) {
            LineReader lines = yes.lines();
            long written = awaitHeldBack(yes.pid());
            assertTrue(written < MAX_WRITTEN, "the child wrote " + written + " bytes nobody read");
            int queued = onLoop(loop, lines::queuedLines);
            assertTrue(queued <= 64 * 1024 / LineReader.ERROR_COST + 1, queued + " errors queued");
            for (int i = 0; i < 200; i++) {
                assertEquals(65_536, failsWith(LineTooLongException.class, lines.readLine(), "line " + i).maxLineLength());
            }
        }
    }

    /**
     * Waits until the child's count of bytes written stops moving (it is blocked on a full pipe) and
     * returns it; a child that is never held back fails the wait.
     */
    private static long awaitHeldBack(long pid) {
        long[] last = {-1};
        int[] still = {0};
        await(() -> "the child to be held back; it has written " + last[0] + " bytes", Duration.ofSeconds(20), () -> {
            long now = wchar(pid);
            still[0] = now == last[0] ? still[0] + 1 : 0;
            last[0] = now;
            return still[0] >= 20;
        });
        return last[0];
    }

    private static long wchar(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
                if (l.startsWith("wchar:")) {
                    return Long.parseLong(l.substring(6).trim());
                }
            }
        } catch (IOException e) {
            throw new AssertionError("cannot read /proc/" + pid + "/io", e);
        }
        throw new AssertionError("no wchar in /proc/" + pid + "/io");
    }
}
