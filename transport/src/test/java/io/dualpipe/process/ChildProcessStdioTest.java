package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** stdin and stdout other than pipes: inherited, the null device, files; and the typed error for a missing pipe. */
class ChildProcessStdioTest {

    @BeforeAll
    static void warmUp() throws Exception {
        // The first spawn loads native stubs and may open descriptors of its own; not a leak.
        try (ChildProcess p = ChildProcess.builder("true").start()) {
            get(p.onExit());
        }
    }

    @Test
    @Timeout(20)
    void stdinFromFileAndStdoutToFile(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.txt"), "line 1\nline 2\n");
        Path out = Files.writeString(dir.resolve("out.txt"), "old contents, longer than the new ones\n".repeat(10));
        Leaks.Baseline before = Leaks.baseline();
        try (EventLoop loop = EventLoop.create("stdio-files")) {
            ChildProcess p = ChildProcess.builder("sh", "-c", "cat; echo done").stdinFrom(in).stdoutTo(out).loop(loop).start();
            assertEquals(ExitStatus.ofExitCode(0), get(p.onExit()));
            // No stdout pipe: drained means exited, not waiting on a stream that does not exist.
            assertEquals(ExitStatus.ofExitCode(0), get(p.onDrained()));
            assertEquals("line 1\nline 2\ndone\n", Files.readString(out), "truncated, then written");

            InvalidArgumentException noIn = assertThrows(InvalidArgumentException.class, p::stdin);
            assertTrue(noIn.getMessage().contains("stdin is not a pipe: it reads file '" + in + "'"), noIn.getMessage());
            InvalidArgumentException noOut = assertThrows(InvalidArgumentException.class, p::stdout);
            assertTrue(noOut.getMessage().contains("stdout is not a pipe: it goes to file '" + out + "'"), noOut.getMessage());
            p.close();
        }
        Leaks.awaitNoFdsBeyond(before);
    }

    @Test
    @Timeout(20)
    void stdoutAppendToAppendsAndStdoutToTruncates(@TempDir Path dir) throws Exception {
        Path log = Files.writeString(dir.resolve("log.txt"), "first\n");
        try (EventLoop loop = EventLoop.create("stdio-append")) {
            run(ChildProcess.builder("echo", "second").stdoutAppendTo(log).loop(loop));
            run(ChildProcess.builder("echo", "third").stdoutAppendTo(log).loop(loop));
            assertEquals("first\nsecond\nthird\n", Files.readString(log));
            run(ChildProcess.builder("echo", "fresh").stdoutTo(log).loop(loop));
            assertEquals("fresh\n", Files.readString(log));
            Path created = dir.resolve("created.txt");
            run(ChildProcess.builder("echo", "new").stdoutAppendTo(created).loop(loop));
            assertEquals("new\n", Files.readString(created), "append creates a missing file");
        }
    }

    @Test
    @Timeout(20)
    void nullStdinIsEndOfInputAtOnce() throws Exception {
        try (EventLoop loop = EventLoop.create("stdio-null");
             ChildProcess p = ChildProcess.builder("sh", "-c", "if read x; then echo got $x; else echo eof; fi")
                     .stdin(StdinMode.NULL_DEVICE).loop(loop).start()) {
            assertEquals("eof", get(p.readLine()));
            assertNull(get(p.readLine()));
            assertEquals(ExitStatus.ofExitCode(0), get(p.onDrained()));
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> p.writeLine("x"));
            assertTrue(e.getMessage().contains("stdin is not a pipe: it reads /dev/null"), e.getMessage());
        }
    }

    @Test
    @Timeout(20)
    void discardedStdoutFailsEveryReaderWithTheTypedError() throws Exception {
        try (EventLoop loop = EventLoop.create("stdio-discard");
             ChildProcess p = ChildProcess.builder("sh", "-c", "echo hidden; echo shown >&2")
                     .stdout(StdoutMode.DISCARD).stderr(StderrMode.PIPE).loop(loop).start()) {
            assertEquals("shown", get(p.errorLines().readLine()));
            assertNull(get(p.errorLines().readLine()));
            assertEquals(ExitStatus.ofExitCode(0), get(p.onDrained()));
            for (Runnable reader : List.<Runnable>of(p::stdout, p::lines, p::readLine, () -> p.request("q"),
                    p::conversation)) {
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class, reader::run);
                assertTrue(e.getMessage().contains("stdout is not a pipe: it goes to /dev/null (StdoutMode.DISCARD)"),
                        e.getMessage());
                assertTrue(e.getMessage().contains("pid " + p.pid()), e.getMessage());
            }
        }
    }

    /** Inherited streams are the parent's own; checked by link, so nothing is read from or written to them. */
    @Test
    @Timeout(20)
    void inheritedStdinAndStdoutAreTheParents() throws Exception {
        String parentIn = Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString();
        String parentOut = Files.readSymbolicLink(Path.of("/proc/self/fd/1")).toString();
        try (EventLoop loop = EventLoop.create("stdio-inherit");
             ChildProcess p = ChildProcess.builder("sh", "-c",
                     // fd 3 keeps the child's own stdout, since ">&2" replaces fd 1 of each readlink
                     "exec 3>&1; readlink /proc/self/fd/0 >&2; readlink /proc/self/fd/3 >&2")
                     .stdin(StdinMode.INHERIT).stdout(StdoutMode.INHERIT).stderr(StderrMode.PIPE).loop(loop).start()) {
            assertEquals(parentIn, get(p.errorLines().readLine()));
            assertEquals(parentOut, get(p.errorLines().readLine()));
            assertEquals(ExitStatus.ofExitCode(0), get(p.onDrained()));
            assertTrue(assertThrows(InvalidArgumentException.class, p::stdin).getMessage()
                    .contains("stdin is not a pipe: it is the parent's stdin"));
            assertTrue(assertThrows(InvalidArgumentException.class, p::stdout).getMessage()
                    .contains("stdout is not a pipe: it is the parent's stdout"));
        }
    }

    @Test
    @Timeout(20)
    void aLaterModeReplacesAFile(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.txt"), "from the file\n");
        try (EventLoop loop = EventLoop.create("stdio-replace");
             ChildProcess p = ChildProcess.builder("cat").stdinFrom(in).stdin(StdinMode.PIPE)
                     .stdoutTo(dir.resolve("unused")).stdout(StdoutMode.PIPE).loop(loop).start()) {
            assertEquals("via the pipe", get(p.request("via the pipe")));
        }
        assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder("cat").stdin(null));
        assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder("cat").stdoutTo(null));
    }

    @Test
    @Timeout(20)
    void missingStdinFileFailsNamingItAndLeaksNothing(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("no-such-input.txt");
        SpawnException e = failsLeavingNothing(ChildProcess.builder("cat").stdinFrom(missing));
        assertEquals("ENOENT", e.errnoName());
        assertEquals("cat", e.program());
        assertTrue(e.getMessage().contains("stdin file '" + missing + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("(ENOENT)"), e.getMessage());

        Path unwritable = dir.resolve("no-dir").resolve("out.txt");
        SpawnException out = failsLeavingNothing(ChildProcess.builder("echo").stdoutTo(unwritable)
                .extraPipe(PipeDirection.FROM_CHILD));
        assertEquals("ENOENT", out.errnoName());
        assertTrue(out.getMessage().contains("stdout file '" + unwritable + "'"), out.getMessage());
    }

    private static SpawnException failsLeavingNothing(ChildProcessBuilder b) throws Exception {
        try (EventLoop loop = EventLoop.create("stdio-failure")) {
            b.loop(loop);
            Leaks.Baseline before = Leaks.baseline();
            SpawnException e = assertThrows(SpawnException.class, b::start);
            Leaks.assertNoFdsBeyond(before);
            Leaks.assertNoZombies(before);
            return e;
        }
    }

    private static void run(ChildProcessBuilder b) throws Exception {
        try (ChildProcess p = b.start()) {
            assertEquals(ExitStatus.ofExitCode(0), get(p.onExit()));
        }
    }
}
