package io.dualpipe;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.ReadLimitExceededException;
import io.dualpipe.core.line.LineTooLongException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.UppercaseMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class DualPipeTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration SHORT = Duration.ofMillis(200);
    private final List<DualPipe> pipes = new ArrayList<>();

    private DualPipe spawn(String... command) {
        DualPipe p = DualPipe.spawn(command);
        pipes.add(p);
        return p;
    }

    @AfterEach
    void closeAll() {
        for (DualPipe p : pipes) {
            p.close(Duration.ZERO); // no-op for those a test closed; stops the rest
        }
    }

    @Test
    @Timeout(20)
    void writeReadlineAndClose() {
        DualPipe cat = spawn("cat");
        cat.write("Hello, world!\n");
        assertEquals("Hello, world!", cat.readline(WAIT));
        cat.write("in ");
        cat.write("pieces".getBytes(StandardCharsets.UTF_8));
        cat.writeLine("");
        assertEquals("in pieces", cat.readline(WAIT));
        DualPipe.Result r = cat.close();
        assertEquals(new DualPipe.Result(cat.pid(), ExitStatus.ofExitCode(0)), r);
        assertEquals("pid " + cat.pid() + ", exit 0", r.toString());
    }

    @Test
    @Timeout(20)
    void readlineTimeoutKeepsThePartialLine() {
        DualPipe cat = spawn("cat");
        cat.write("partial");
        cat.flush(WAIT);
        WaitTimeoutException e = assertThrows(WaitTimeoutException.class, () -> cat.readline(SHORT));
        assertEquals(SHORT, e.timeout());
        cat.write("-rest\n");
        assertEquals("partial-rest", cat.readline(WAIT));
    }

    @Test
    @Timeout(20)
    void readTimesOutOnSilenceThenReturnsWhatComes() {
        DualPipe cat = spawn("cat");
        WaitTimeoutException e = assertThrows(WaitTimeoutException.class, () -> cat.read(10, SHORT));
        assertTrue(e.getMessage().contains("no bytes from pid " + cat.pid()), e.getMessage());
        assertThrows(WaitTimeoutException.class, () -> cat.read(10, Duration.ZERO));
        cat.write("x");
        assertArrayEquals(new byte[] {'x'}, cat.read(10, WAIT));
    }

    @Test
    @Timeout(20)
    void endOfOutputIsAnEmptyArrayAndNullEveryTime() {
        DualPipe p = spawn("printf", "a\\nb");
        assertEquals("a", p.readline(WAIT));
        assertEquals("b", p.readline(WAIT)); // the last line, without a newline
        assertNull(p.readline(WAIT));
        assertArrayEquals(new byte[0], p.read(10, WAIT));
        assertNull(p.readline(Duration.ZERO));
        assertEquals(0, p.close().status().exitCode());
    }

    @Test
    @Timeout(20)
    void readAndReadlineMix() {
        DualPipe p = spawn("printf", "line1\\nABCDEFline2\\r\\nend");
        assertEquals("line1", p.readline(WAIT));
        assertEquals("ABCDEF", new String(readExactly(p, 6), StandardCharsets.US_ASCII));
        assertEquals("line2", p.readline(WAIT));
        assertEquals("end", p.readline(WAIT));
        assertNull(p.readline(WAIT));
    }

    @Test
    @Timeout(20)
    void readReturnsAtMostSize() {
        DualPipe p = spawn("printf", "0123456789");
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] b; (b = p.read(4, WAIT)).length > 0; ) {
            assertTrue(b.length <= 4, "got " + b.length);
            all.writeBytes(b);
        }
        assertEquals("0123456789", all.toString(StandardCharsets.US_ASCII));
    }

    @Test
    @Timeout(20)
    void zeroTimeoutTakesWhatHasArrived() {
        DualPipe p = spawn("printf", "a\\nb\\n"); // one write, so both lines arrive together
        assertEquals("a", p.readline(WAIT));
        assertEquals("b", p.readline(Duration.ZERO));
    }

    @Test
    @Timeout(20)
    void overLongLineIsDroppedThroughItsNewline() {
        DualPipe p = DualPipe.spawn(ChildProcess.builder("printf", "0123456789ABC\\nok\\n").maxLineLength(10));
        pipes.add(p);
        assertThrows(LineTooLongException.class, () -> p.readline(WAIT));
        assertEquals("ok", p.readline(WAIT));
    }

    @Test
    @Timeout(20)
    void closeReturnsTheExitCodeAndIsIdempotent() {
        DualPipe sh = spawn("sh", "-c", "read x; exit 3");
        DualPipe.Result r = sh.close();
        assertEquals(3, r.status().exitCode());
        assertSame(r, sh.close());
        assertThrows(ChannelClosedException.class, () -> sh.readline(WAIT));
        assertThrows(ChannelClosedException.class, () -> sh.read(1, WAIT));
        assertThrows(ChannelClosedException.class, () -> sh.write("x"));
    }

    @Test
    @Timeout(20)
    void closeDiscardsUnreadOutputSoTheChildCanExit() {
        // 1 MB nobody reads is more than the pipe and the loop's buffer hold: the child would block.
        DualPipe p = spawn("sh", "-c", "head -c 1000000 /dev/zero; exit 4");
        assertEquals(4, p.close().status().exitCode());
    }

    @Test
    @Timeout(20)
    void closeStopsAChildThatDoesNotExitOnEof() {
        DualPipe sleeper = spawn("sleep", "60");
        assertEquals(ExitStatus.ofSignal(15, false), sleeper.close(SHORT).status());
    }

    @Test
    @Timeout(20)
    void closeKillsAChildThatIgnoresSigterm() {
        DualPipe stubborn = spawn("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done");
        assertEquals("ready", stubborn.readline(WAIT));
        assertEquals(9, stubborn.close(SHORT).status().signal());
    }

    @Test
    @Timeout(20)
    void flushTimesOutWhenTheChildDoesNotRead() {
        DualPipe sleeper = spawn("sleep", "60");
        sleeper.write(new byte[1 << 20]); // more than a pipe holds
        WaitTimeoutException e = assertThrows(WaitTimeoutException.class, () -> sleeper.flush(SHORT));
        assertTrue(e.getMessage().contains("queued bytes"), e.getMessage());
    }

    @Test
    @Timeout(20)
    void writingToAChildThatClosedItsStdinIsABrokenPipe() {
        DualPipe p = spawn("sh", "-c", "exec 0<&-; echo closed; exec sleep 60");
        assertEquals("closed", p.readline(WAIT));
        assertThrows(BrokenPipeException.class, () -> {
            p.write("x\n");
            p.flush(WAIT);
        });
        assertThrows(BrokenPipeException.class, () -> p.write("again"));
    }

    @Test
    @Timeout(30)
    void javaClassChild() {
        DualPipe p = DualPipe.spawn(UppercaseMain.class);
        pipes.add(p);
        p.write("Hello, world!\n");
        p.write("Testing DualPipe\n");
        assertEquals("HELLO, WORLD!", p.readline(Duration.ofSeconds(20)));
        assertEquals("TESTING DUALPIPE", p.readline(WAIT));
        assertEquals(new DualPipe.Result(p.pid(), ExitStatus.ofExitCode(0)), p.close());
    }

    @Test
    @Timeout(30)
    void pythonChild() {
        assumeTrue(onPath("python3"), "python3 is not installed");
        DualPipe p = spawn("python3", "-u", "-c",
                "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line.upper())");
        p.write("Hello, world!\n");
        assertEquals("HELLO, WORLD!", p.readline(Duration.ofSeconds(20)));
        assertEquals(0, p.close().status().exitCode());
    }

    @Test
    @Timeout(20)
    void badArgumentsNameTheRule() {
        DualPipe cat = spawn("cat");
        assertEquals("size <= 0: 0", assertThrows(InvalidArgumentException.class, () -> cat.read(0, WAIT)).getMessage());
        assertEquals("timeout is null", assertThrows(InvalidArgumentException.class, () -> cat.readline(null)).getMessage());
        assertEquals("timeout < 0: PT-1S",
                assertThrows(InvalidArgumentException.class, () -> cat.readline(Duration.ofSeconds(-1))).getMessage());
    }

    // ---- polling and readAll ----

    @Test
    @Timeout(20)
    void pollNeverWaitsAndAnEmptyArrayIsNotTheEnd() {
        DualPipe cat = spawn("cat");
        assertArrayEquals(new byte[0], cat.poll(10)); // nothing yet: no WaitTimeoutException either
        assertFalse(cat.isEndOfStream());
        assertNull(cat.pollLine());
        cat.write("abcdef");
        assertEquals("abcdef", pollBytes(cat, 6, 4));
        assertArrayEquals(new byte[0], cat.poll(10));
        assertFalse(cat.isEndOfStream());
        cat.process().stdin().shutdownOutput(); // cat ends its output
        awaitEndOfStream(cat);
        assertArrayEquals(new byte[0], cat.poll(10));
        assertNull(cat.pollLine());
        assertTrue(cat.isEndOfStream(), "again");
        assertArrayEquals(new byte[0], cat.read(10, Duration.ZERO));
        assertEquals(0, cat.close().status().exitCode());
    }

    @Test
    @Timeout(20)
    void endOfStreamOnlyOnceEveryByteIsTaken() {
        DualPipe p = spawn("printf", "xyz");
        assertEquals("xyz", pollBytes(p, 3, 1)); // one byte at a time
        awaitEndOfStream(p);
    }

    @Test
    @Timeout(20)
    void pollLineReturnsOnlyCompleteLines() {
        DualPipe sh = spawn("sh", "-c", "printf 'a\nb\r\npart'; read x; printf 'ial\nlast'");
        assertEquals("a", pollLine(sh));
        assertEquals("b", pollLine(sh));
        assertNull(sh.pollLine(), "'part' has no newline yet");
        assertFalse(sh.isEndOfStream());
        sh.writeLine("go");
        assertEquals("partial", pollLine(sh));
        assertEquals("last", pollLine(sh)); // complete once the output has ended
        assertNull(sh.pollLine());
        assertTrue(sh.isEndOfStream());
    }

    @Test
    @Timeout(20)
    void pollAndPollLineShareTheBufferWithReadline() {
        DualPipe p = spawn("printf", "one\ntwo\nthree\n");
        assertEquals("one", p.readline(WAIT));
        assertEquals("two", pollLine(p));
        assertEquals("thr", pollBytes(p, 3, 3));
        assertEquals("ee", p.readline(WAIT));
        awaitEndOfStream(p);
    }

    @Test
    @Timeout(20)
    void pollLineReportsAnOverLongLineOnce() {
        DualPipe p = DualPipe.spawn(ChildProcess.builder("printf", "0123456789ABC\nok\n").maxLineLength(10));
        pipes.add(p);
        assertThrows(LineTooLongException.class, () -> pollLine(p));
        assertEquals("ok", pollLine(p));
    }

    @Test
    @Timeout(20)
    void readAllIsEverythingToTheEnd() {
        DualPipe cat = spawn("cat");
        byte[] data = new byte[3 * 1024 * 1024];
        new java.util.Random(3).nextBytes(data);
        data[0] = 'h';
        data[1] = '\n';
        cat.write(data);
        assertEquals("h", cat.readline(WAIT)); // what readline left buffered comes first
        cat.process().stdin().shutdownOutput();
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 2, data.length), cat.readAll(WAIT));
        assertArrayEquals(new byte[0], cat.readAll(WAIT), "at the end: empty, every time");
        assertTrue(cat.isEndOfStream());
        assertEquals(0, cat.close().status().exitCode());
    }

    @Test
    @Timeout(20)
    void readAllOfNoOutput() {
        DualPipe t = spawn("true");
        assertArrayEquals(new byte[0], t.readAll(1, WAIT));
        assertEquals(0, t.close().status().exitCode());
    }

    @Test
    @Timeout(20)
    void readAllTimeoutKeepsWhatCame() {
        DualPipe cat = spawn("cat");
        cat.write("kept");
        cat.flush(WAIT);
        WaitTimeoutException e = assertThrows(WaitTimeoutException.class, () -> cat.readAll(SHORT));
        assertTrue(e.getMessage().contains("did not end within"), e.getMessage());
        cat.write("+more");
        cat.process().stdin().shutdownOutput();
        assertEquals("kept+more", new String(cat.readAll(WAIT), StandardCharsets.US_ASCII));
    }

    @Test
    @Timeout(20)
    void readAllOverTheLimitIsTypedAndCloseStillReapsTheChild() {
        DualPipe p = spawn("sh", "-c", "head -c 10000000 /dev/zero; exit 5");
        ReadLimitExceededException e = assertThrows(ReadLimitExceededException.class, () -> p.readAll(100_000, WAIT));
        assertEquals(100_000, e.limit());
        assertEquals("pid " + p.pid() + " (sh) stdout: more than maxBytes 100000 bytes before the end of the stream;"
                + " stopped reading", e.getMessage());
        assertEquals(1, p.read(1, WAIT).length, "what came stays readable");
        assertEquals(5, p.close().status().exitCode()); // close drains the rest, so the child finishes
    }

    @Test
    @Timeout(20)
    void pollingCallsNameTheirRules() {
        DualPipe cat = spawn("cat");
        assertEquals("maxBytes <= 0: 0", assertThrows(InvalidArgumentException.class, () -> cat.poll(0)).getMessage());
        assertEquals("maxBytes <= 0: -1",
                assertThrows(InvalidArgumentException.class, () -> cat.readAll(-1, WAIT)).getMessage());
        assertEquals("timeout is null", assertThrows(InvalidArgumentException.class, () -> cat.readAll(null)).getMessage());
        cat.close();
        assertThrows(ChannelClosedException.class, () -> cat.poll(1));
        assertThrows(ChannelClosedException.class, cat::pollLine);
        assertThrows(ChannelClosedException.class, cat::isEndOfStream);
        assertThrows(ChannelClosedException.class, () -> cat.readAll(WAIT));
    }

    /** Polls, as a Python polling loop would, until {@code n} bytes came; at most {@code max} per poll. */
    private static String pollBytes(DualPipe p, int n, int max) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Poller poller = new Poller();
        while (out.size() < n) {
            byte[] b = p.poll(max);
            assertTrue(b.length <= max, "got " + b.length);
            if (b.length == 0) {
                assertFalse(p.isEndOfStream(), "end of output after " + out.size() + " of " + n + " bytes");
                poller.pause("no " + n + " bytes");
            }
            out.writeBytes(b);
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    private static String pollLine(DualPipe p) {
        Poller poller = new Poller();
        for (String line; ; ) {
            if ((line = p.pollLine()) != null) {
                return line;
            }
            assertFalse(p.isEndOfStream(), "end of output before a line");
            poller.pause("no line");
        }
    }

    private static void awaitEndOfStream(DualPipe p) {
        Poller poller = new Poller();
        while (!p.isEndOfStream()) {
            assertArrayEquals(new byte[0], p.poll(10), "bytes before the end");
            poller.pause("no end of output");
        }
    }

    /** The pause of a polling loop (what the API is for), failing after {@link #WAIT}. */
    private static final class Poller {
        private final long deadline = System.nanoTime() + WAIT.toNanos();
        private long pause = 50_000;

        void pause(String what) {
            assertTrue(System.nanoTime() - deadline < 0, what + " within " + WAIT);
            java.util.concurrent.locks.LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 10_000_000);
        }
    }

    private static byte[] readExactly(DualPipe p, int n) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < n) {
            byte[] b = p.read(n - out.size(), WAIT);
            if (b.length == 0) {
                throw new AssertionError("end of output after " + out.size() + " of " + n + " bytes");
            }
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
