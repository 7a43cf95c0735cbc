package io.dualpipe;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.InvalidArgumentException;
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
