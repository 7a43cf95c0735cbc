package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.process.internal.ProcessControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.isDead;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one-shot call: input, bounded stdout, stderr tail, status, timeout of the whole group, exit check. */
class CommandTest {

    @Test
    @Timeout(20)
    void sortsItsInput() throws Exception {
        try (EventLoop loop = EventLoop.create("cmd-sort")) {
            RunResult r = get(Command.of(ChildProcess.builder("sort").loop(loop)).input("b\nc\na\n")
                    .timeout(Duration.ofSeconds(5)).maxOutput(1 << 20).checkExit(true).run());
            assertEquals("a\nb\nc\n", r.stdoutText());
            assertTrue(r.status().isSuccess());
            assertEquals(0, r.stderrBytes());
            assertFalse(r.stdoutTruncated());
        }
    }

    @Test
    @Timeout(20)
    void aFailedExitIsTypedWithItsStatusAndStderrTailWhenChecked() throws Exception {
        try (EventLoop loop = EventLoop.create("cmd-exit")) {
            Command cmd = Command.of(ChildProcess.builder("sh", "-c", "echo partial; echo 'no such file' >&2; exit 3")
                    .loop(loop));
            RunResult unchecked = get(cmd.run());
            assertEquals(3, unchecked.status().exitCode());

            NonZeroExitException e = failsWith(NonZeroExitException.class, cmd.checkExit(true).run());
            assertEquals(3, e.status().exitCode());
            assertEquals("partial\n", e.result().stdoutText());
            assertEquals("no such file\n", e.result().stderrText());
            assertTrue(e.getMessage().contains("exit code 3") || e.getMessage().contains("3"), e.getMessage());
            assertTrue(e.getMessage().endsWith("stderr ends: no such file"), e.getMessage());
        }
    }

    @Test
    @Timeout(20)
    void aTimeoutKillsTheWholeGroupAndCarriesThePartialOutput() throws Exception {
        io.dualpipe.Leaks.Baseline fds = io.dualpipe.Leaks.baseline();
        try (EventLoop loop = EventLoop.create("cmd-timeout")) {
            // The timeout leaves sh room to start and write on a busy machine (the partial output is the
            // point); failsWith's 10 s bound shows the command did not wait for its 100 s sleep.
            CommandTimeoutException e = failsWith(CommandTimeoutException.class,
                    Command.of(ChildProcess.builder("sh", "-c", "sleep 100 & echo $!; echo waiting >&2; sleep 100")
                            .loop(loop)).timeout(Duration.ofSeconds(3)).run());
            assertEquals(Duration.ofSeconds(3), e.timeout());
            ExitStatus status = e.result().status();
            assertTrue(status.signaled() && status.signal() == ProcessControl.SIGKILL, status.toString());
            assertEquals("waiting\n", e.result().stderrText());
            long grandchild = Long.parseLong(e.result().stdoutText().trim());
            await("grandchild " + grandchild + " killed with the group", () -> isDead(grandchild));
            io.dualpipe.Leaks.awaitNoZombies();
        }
        io.dualpipe.Leaks.awaitNoFdsBeyond(fds);
    }

    @Test
    @Timeout(20)
    void aTimeoutAlsoEndsDescendantsThatOutliveTheChildHoldingItsPipes() throws Exception {
        try (EventLoop loop = EventLoop.create("cmd-held")) {
            CommandTimeoutException e = failsWith(CommandTimeoutException.class,
                    Command.of(ChildProcess.builder("sh", "-c", "sleep 100 & echo $!; exit 0").loop(loop))
                            .timeout(Duration.ofSeconds(3)).run()); // room for sh to exit on a busy machine
            assertEquals(0, e.result().status().exitCode(), "the child itself had exited");
            long grandchild = Long.parseLong(e.result().stdoutText().trim());
            await("grandchild " + grandchild + " killed with the group", () -> isDead(grandchild));
            assertTrue(e.getMessage().contains("pipes were still held open"), e.getMessage());
        }
    }

    @Test
    @Timeout(60)
    void tenMegabytesOfStderrNeverStallTheChildAndTheTailIsKept() throws Exception {
        try (EventLoop loop = EventLoop.create("cmd-stderr")) {
            // Waited for past the command's own 20 s timeout (python3 start-up alone may take seconds
            // on a busy machine), so a slow run fails by that typed timeout, not by the test's wait.
            RunResult r = Command.of(ChildProcess.builder("python3", "-c",
                    "import sys\nsys.stderr.write('x' * 10_000_000 + 'END')\nsys.stderr.flush()\nprint('done')")
                    .loop(loop)).timeout(Duration.ofSeconds(20)).checkExit(true).run().get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals("done\n", r.stdoutText());
            assertEquals(10_000_003, r.stderrBytes());
            byte[] tail = r.stderrTail();
            assertEquals(64 * 1024, tail.length);
            assertTrue(r.stderrText().endsWith("xxxEND"));
            byte[] xs = new byte[tail.length - 3];
            Arrays.fill(xs, (byte) 'x');
            assertArrayEquals(xs, Arrays.copyOf(tail, xs.length));
        }
    }

    @Test
    @Timeout(20)
    void outputOverTheBoundFailsTypedAndKillsTheChild() throws Exception {
        try (EventLoop loop = EventLoop.create("cmd-bound")) {
            OutputLimitException e = failsWith(OutputLimitException.class,
                    Command.of(ChildProcess.builder("yes").loop(loop)).maxOutput(1000).run());
            assertEquals(1000, e.limit());
            assertEquals(1000, e.result().stdout().length);
            assertTrue(e.result().stdoutText().startsWith("y\ny\n"));
            assertTrue(e.result().status().signaled(), e.result().status().toString());
            io.dualpipe.Leaks.awaitNoZombies();
        }
    }

    @Test
    @Timeout(20)
    void orTruncatesWhenAskedAndReadsTheRestAway() throws Exception {
        try (EventLoop loop = EventLoop.create("cmd-truncate")) {
            RunResult r = get(Command.of(ChildProcess.builder("head", "-c", "3000000", "/dev/zero").loop(loop))
                    .maxOutput(1000).truncateOutput(true).checkExit(true).run());
            assertTrue(r.status().isSuccess(), "head wrote all 3 MB: nothing blocked it");
            assertTrue(r.stdoutTruncated());
            assertEquals(1000, r.stdout().length);
        }
    }

    @Test
    @Timeout(20)
    void aProgramThatCannotStartFailsTheFuture() throws Exception {
        SpawnException e = failsWith(SpawnException.class, Command.of("no-such-program-here").run());
        assertEquals("ENOENT", e.errnoName());
    }

    @Test
    @Timeout(30)
    void manyRunsLeaveNoDescriptorNoZombie() throws Exception {
        try (EventLoop loop = EventLoop.create("cmd-many")) {
            get(Command.of(ChildProcess.builder("true").loop(loop)).run());
            io.dualpipe.Leaks.Baseline fds = io.dualpipe.Leaks.baseline();
            for (int i = 0; i < 30; i++) {
                RunResult r = get(Command.of(ChildProcess.builder("sh", "-c", "cat; echo err >&2").loop(loop))
                        .input("line " + i + "\n").run());
                assertEquals("line " + i + "\n", new String(r.stdout(), StandardCharsets.UTF_8));
                assertEquals("err\n", r.stderrText());
            }
            io.dualpipe.Leaks.awaitNoFdsBeyond(fds);
            io.dualpipe.Leaks.awaitNoZombies();
        }
    }
}
