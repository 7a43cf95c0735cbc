package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Function;

import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A child that cannot start: a typed SpawnException from start(), a failed future from spawn(), nothing leaked. */
class ChildProcessSpawnFailureTest {

    @BeforeAll
    static void warmUp() throws Exception {
        // The first spawn loads native stubs and may open descriptors of its own; not a leak.
        try (ChildProcess p = ChildProcess.builder("true").start()) {
            get(p.onExit());
        }
    }

    @Test
    @Timeout(20)
    void missingProgram() throws Exception {
        SpawnException e = failsBothWays(loop -> ChildProcess.builder("no-such-program-dualpipe").loop(loop));
        assertEquals("ENOENT", e.errnoName());
        assertEquals("no-such-program-dualpipe", e.program());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        assertEquals("ENOENT", failsBothWays(loop -> ChildProcess.builder("/no/such/program").loop(loop)).errnoName());
    }

    @Test
    @Timeout(20)
    void nonExecutableFile(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("not-executable.sh");
        Files.writeString(script, "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        SpawnException e = failsBothWays(loop -> ChildProcess.builder(script.toString())
                .extraPipe(PipeDirection.FROM_CHILD).extraPipe(PipeDirection.TO_CHILD).loop(loop));
        assertEquals("EACCES", e.errnoName());
        assertTrue(e.getMessage().contains("not executable"), e.getMessage());
    }

    @Test
    @Timeout(20)
    void badWorkingDirectory(@TempDir Path dir) throws Exception {
        SpawnException missing = failsBothWays(loop -> ChildProcess.builder("true").directory(dir.resolve("nope")).loop(loop));
        assertEquals("ENOENT", missing.errnoName());
        assertTrue(missing.getMessage().contains("working directory"), missing.getMessage());
        Path file = Files.writeString(dir.resolve("file"), "x");
        SpawnException notDir = failsBothWays(loop -> ChildProcess.builder("true").directory(file).loop(loop));
        assertEquals("ENOTDIR", notDir.errnoName());
    }

    @Test
    @Timeout(20)
    void unopenableStderrFile(@TempDir Path dir) throws Exception {
        SpawnException e = failsBothWays(loop -> ChildProcess.builder("true")
                .stderrAppendTo(dir.resolve("no-dir").resolve("x.log")).loop(loop));
        assertEquals("ENOENT", e.errnoName());
    }

    /** start() throws and spawn() fails alike, each leaving the fd count and the zombie list as they were. */
    private static SpawnException failsBothWays(Function<EventLoop, ChildProcessBuilder> builder) throws Exception {
        try (EventLoop loop = EventLoop.create("spawn-failure")) {
            ChildProcessBuilder b = builder.apply(loop);
            Leaks.Baseline before = Leaks.baseline();
            SpawnException thrown = assertThrows(SpawnException.class, b::start);
            LoopFuture<ChildProcess> spawned = b.spawn();
            SpawnException failed = failsWith(SpawnException.class, spawned);
            assertEquals(thrown.errnoName(), failed.errnoName());
            assertEquals(thrown.getMessage(), failed.getMessage());
            Leaks.assertNoFdsBeyond(before);
            Leaks.assertNoZombies(before);
            // the loop is unharmed
            try (ChildProcess ok = ChildProcess.builder("echo", "fine").loop(loop).start()) {
                assertEquals("fine", get(ok.readLine()));
            }
            return thrown;
        }
    }

    @Test
    @Timeout(20)
    void loopIsNotNeededToReportAFailure() {
        Leaks.Baseline before = Leaks.baseline();
        assertThrows(SpawnException.class, () -> ChildProcess.builder("no-such-program-dualpipe").start());
        Leaks.awaitNoFdsBeyond(before);
    }
}
