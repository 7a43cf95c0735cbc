package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.line.LineReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.dualpipe.process.ProcessTestSupport.MY_PID;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.statFields;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code a | b | c} through ChildProcess.pipeline: bytes, end of input, exit statuses, failures, leaks. */
class PipelineTest {
    private static final ExitStatus OK = ExitStatus.ofExitCode(0);

    @BeforeAll
    static void warmUp() throws Exception {
        try (ChildProcess p = ChildProcess.builder("true").start()) {
            get(p.onExit());
        }
    }

    @Test
    @Timeout(20)
    void printfSortTr() throws Exception {
        Leaks.Baseline before = Leaks.baseline();
        try (EventLoop loop = EventLoop.create("pipeline-sort")) {
            try (Pipeline p = ChildProcess.pipeline(
                    ChildProcess.builder("printf", "b\\na\\nc\\n").loop(loop),
                    ChildProcess.builder("sort").loop(loop),
                    ChildProcess.builder("tr", "a-z", "A-Z").loop(loop))) {
                assertEquals("A\nB\nC\n", readAll(p.lines()));
                assertEquals(List.of(OK, OK, OK), get(p.onExit()));
                assertEquals(3, p.stages().size());
                InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> p.stages().get(1).stdout());
                assertTrue(e.getMessage().contains("stdout is not a pipe: it feeds the next pipeline stage's stdin"),
                        e.getMessage());
                e = assertThrows(InvalidArgumentException.class, () -> p.stages().get(2).stdin());
                assertTrue(e.getMessage().contains("stdin is not a pipe: it reads the previous pipeline stage's stdout"),
                        e.getMessage());
            }
        }
        Leaks.awaitNoFdsBeyond(before);
    }

    /** wc can only finish if nobody but cat holds the pipe between them: the parent must keep neither end. */
    @Test
    @Timeout(20)
    void writingIntoCatWcThenShuttingTheHeadGivesTheCount() throws Exception {
        Leaks.Baseline before = Leaks.baseline();
        try (EventLoop loop = EventLoop.create("pipeline-wc")) {
            try (Pipeline p = ChildProcess.pipeline(ChildProcess.builder("cat").loop(loop),
                    ChildProcess.builder("wc", "-c").loop(loop))) {
                // While both run: each child holds exactly its stdio, nothing of the other's pipe. Looked
                // at once it waits for input, past ld.so and setlocale, which open files of their own.
                for (ChildProcess stage : p.stages()) {
                    Leaks.awaitBlockedReading(stage.pid(), 0);
                    assertEquals(List.of(0, 1, 2), Leaks.fdsOf(stage.pid()), "fds of " + stage);
                }
                byte[] chunk = "0123456789abcdef".repeat(64).getBytes(StandardCharsets.US_ASCII); // 1 KiB
                long total = 0;
                for (int i = 0; i < 300; i++) { // more than a pipe holds: backpressure through both stages
                    p.stdin().write(chunk);
                    total += chunk.length;
                }
                get(p.stdin().shutdownOutput());
                assertEquals(String.valueOf(total), get(p.lines().readLine()).trim());
                assertEquals(List.of(OK, OK), get(p.onExit()));
                assertEquals(OK, get(p.last().onDrained()));
            }
        }
        Leaks.awaitNoFdsBeyond(before);
    }

    @Test
    @Timeout(20)
    void endsFollowTheirBuildersAndStatusesAreKeptPerStage(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.txt"), "hello\nworld\n");
        Path out = dir.resolve("out.txt");
        try (EventLoop loop = EventLoop.create("pipeline-files");
             Pipeline p = ChildProcess.pipeline(
                     ChildProcess.builder("cat").stdinFrom(in).loop(loop),
                     ChildProcess.builder("sh", "-c", "tr a-z A-Z; exit 3").loop(loop),
                     ChildProcess.builder("cat").stdoutTo(out).loop(loop))) {
            assertEquals(List.of(OK, ExitStatus.ofExitCode(3), OK), get(p.onExit()), "a failing middle is not masked");
            assertEquals("HELLO\nWORLD\n", Files.readString(out));
            assertThrows(InvalidArgumentException.class, p::stdin);
            assertThrows(InvalidArgumentException.class, p::stdout);
        }
    }

    @Test
    @Timeout(20)
    void aMissingSecondProgramKillsAndReapsTheFirstAndLeaksNothing() throws Exception {
        try (EventLoop loop = EventLoop.create("pipeline-missing")) {
            for (int missingAt = 1; missingAt <= 2; missingAt++) {
                List<ChildProcessBuilder> stages = new ArrayList<>();
                // Each would outlive the test; the arguments mark them among other tests' children.
                stages.add(ChildProcess.builder("sleep", "987").loop(loop));
                stages.add(ChildProcess.builder("sleep", "988").loop(loop));
                stages.add(ChildProcess.builder("sleep", "989").loop(loop));
                stages.set(missingAt, ChildProcess.builder("no-such-program-dualpipe").loop(loop));
                Leaks.Baseline before = Leaks.baseline();
                SpawnException e = assertThrows(SpawnException.class,
                        () -> ChildProcess.pipeline(stages.toArray(new ChildProcessBuilder[0])));
                assertEquals("no-such-program-dualpipe", e.program());
                assertEquals("ENOENT", e.errnoName());
                // Reaped before the throw: not running, not a zombie, not even listed.
                assertEquals(List.of(), markedChildren(), "children after stage " + missingAt + " failed");
                Leaks.assertNoZombies(before);
                Leaks.assertNoFdsBeyond(before);
            }
            // the loop is unharmed
            try (Pipeline ok = ChildProcess.pipeline(ChildProcess.builder("echo", "fine").loop(loop),
                    ChildProcess.builder("cat").loop(loop))) {
                assertEquals("fine", get(ok.lines().readLine()));
            }
        }
    }

    @Test
    @Timeout(20)
    void stagesMustLeaveTheWiredStreamsAndShareALoop(@TempDir Path dir) throws Exception {
        try (EventLoop a = EventLoop.create("pipeline-a"); EventLoop b = EventLoop.create("pipeline-b")) {
            Leaks.Baseline before = Leaks.baseline();
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> ChildProcess.pipeline(
                    ChildProcess.builder("echo").loop(a), ChildProcess.builder("cat").stdin(StdinMode.NULL_DEVICE).loop(a)));
            assertTrue(e.getMessage().contains("stage 1 (cat) sets stdin to NULL_DEVICE"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class, () -> ChildProcess.pipeline(
                    ChildProcess.builder("echo").stdoutTo(dir.resolve("x")).loop(a), ChildProcess.builder("cat").loop(a)));
            assertTrue(e.getMessage().contains("stage 0 (echo) sets stdout to file"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class, () -> ChildProcess.pipeline(
                    ChildProcess.builder("echo").loop(a), ChildProcess.builder("cat").loop(b)));
            assertTrue(e.getMessage().contains("one loop"), e.getMessage());
            assertThrows(InvalidArgumentException.class, ChildProcess::pipeline);
            assertThrows(InvalidArgumentException.class, () -> ChildProcess.pipeline(ChildProcess.builder("echo"), null));
            assertFalseFile(dir.resolve("x"));
            Leaks.assertNoFdsBeyond(before);
            assertEquals(List.of(), markedChildren());
        }
    }

    private static void assertFalseFile(Path p) {
        assertTrue(!Files.exists(p), "validation happens before anything is opened: " + p);
    }

    private static String readAll(LineReader lines) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (String line; (line = get(lines.readLine())) != null; ) {
            sb.append(line).append('\n');
        }
        return sb.toString();
    }

    /** This JVM's children running {@code sleep 98x}, the marked stages above, with their command lines. */
    private static List<String> markedChildren() {
        List<String> out = new ArrayList<>();
        File[] procs = new File("/proc").listFiles();
        if (procs == null) {
            return out;
        }
        for (File f : procs) {
            if (!Character.isDigit(f.getName().charAt(0))) {
                continue;
            }
            String[] stat = statFields(Long.parseLong(f.getName()));
            if (stat != null && Long.parseLong(stat[1]) == MY_PID) {
                try {
                    String cmdline = Files.readString(f.toPath().resolve("cmdline")).replace('\0', ' ');
                    if (cmdline.startsWith("sleep 98")) {
                        out.add(f.getName() + " " + cmdline);
                    }
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return out;
    }
}
