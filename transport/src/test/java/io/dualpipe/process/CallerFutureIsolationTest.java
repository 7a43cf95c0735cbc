package io.dualpipe.process;

import io.dualpipe.DualPipe;
import io.dualpipe.core.BlockingOnLoopException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A future the library hands out is the caller's own: whatever a caller does to it (cancel,
 * complete, obtrude, orTimeout) leaves the child's exit, its streams' ends and the pipeline's exit
 * as the library and every other caller see them.
 */
class CallerFutureIsolationTest {

    /** Everything a holder of a CompletableFuture can do to it. */
    enum Poison {
        CANCEL {
            void apply(CompletableFuture<?> f) {
                assertTrue(f.cancel(true));
            }
        },
        COMPLETE {
            void apply(CompletableFuture<?> f) {
                assertTrue(f.complete(null));
            }
        },
        COMPLETE_EXCEPTIONALLY {
            void apply(CompletableFuture<?> f) {
                assertTrue(f.completeExceptionally(new IllegalStateException("a caller's own failure")));
            }
        },
        OBTRUDE_VALUE {
            void apply(CompletableFuture<?> f) {
                f.obtrudeValue(null);
            }
        },
        OBTRUDE_EXCEPTION {
            void apply(CompletableFuture<?> f) {
                f.obtrudeException(new IllegalStateException("a caller's own failure"));
            }
        },
        OR_TIMEOUT {
            void apply(CompletableFuture<?> f) {
                CompletableFuture<?> same = f.orTimeout(10, TimeUnit.MILLISECONDS);
                Throwable t = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> same.get(10, TimeUnit.SECONDS)).getCause();
                assertTrue(t instanceof TimeoutException, t.toString());
            }
        };

        abstract void apply(CompletableFuture<?> f);
    }

    @ParameterizedTest
    @EnumSource(Poison.class)
    @Timeout(30)
    void aCallersOnExitLeavesTheExitToEveryoneElse(Poison poison) throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-exit")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            LoopFuture<ExitStatus> before = cat.onExit(); // another caller's, taken before the poison
            poison.apply(cat.onExit());
            assertTrue(cat.isAlive());
            assertFalse(before.isDone(), "another caller's future changed with the first one's");
            assertFalse(cat.onExit().isDone(), "a new caller sees the first one's poison");
            cat.stdin().shutdownOutput();
            assertEquals(ExitStatus.ofExitCode(0), get(before));
            assertEquals(ExitStatus.ofExitCode(0), get(cat.onExit()));
            assertEquals(ExitStatus.ofExitCode(0), get(cat.onDrained()));
            assertEquals(ExitStatus.ofExitCode(0), get(cat.terminate(Duration.ofSeconds(1))));
            assertTrue(cat.toString().contains("exited"), cat.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Poison.class)
    @Timeout(30)
    void terminateAfterACallersOnExitWasPoisonedReportsTheKill(Poison poison) throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-terminate")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            assertEquals("up", get(cat.request("up")));
            poison.apply(cat.onExit());
            ExitStatus status = get(cat.terminate(Duration.ofSeconds(10)));
            assertTrue(status.signaled(), status.toString());
            assertEquals(15, status.signal());
            assertEquals(status, get(cat.onExit()));
            assertEquals(status, get(cat.onDrained()));
        }
    }

    @ParameterizedTest
    @EnumSource(Poison.class)
    @Timeout(30)
    void aCallersOnDrainedOrEndOfStreamLeavesThemToEveryoneElse(Poison poison) throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-drained")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "read x; echo out; echo err >&2").stderr(StderrMode.PIPE).loop(loop).start();
            poison.apply(sh.onDrained());
            poison.apply(sh.stdout().endOfStream());
            poison.apply(sh.stderr().endOfStream());
            // The child waits for its line: nothing has ended yet, whatever the first caller did.
            assertFalse(sh.stdout().endOfStream().isDone());
            assertFalse(sh.stderr().endOfStream().isDone());
            assertFalse(sh.onDrained().isDone());
            get(sh.writeLine("go"));
            sh.stdin().shutdownOutput();
            assertEquals("out", get(sh.lines().readLine()));
            assertEquals("err", get(sh.errorLines().readLine()));
            get(sh.lines().readLine().handle((v, e) -> null)); // end of stdout, taken
            get(sh.errorLines().readLine().handle((v, e) -> null));
            assertEquals(ExitStatus.ofExitCode(0), get(sh.onExit()));
            get(sh.stdout().endOfStream());
            get(sh.stderr().endOfStream());
            assertEquals(ExitStatus.ofExitCode(0), get(sh.onDrained()));
        }
    }

    @Test
    @Timeout(30)
    void dualPipeClosesCleanlyAfterACallersOrTimeoutOnExit() throws Exception {
        DualPipe cat = DualPipe.spawn("cat");
        try {
            CompletableFuture<ExitStatus> mine = cat.process().onExit().orTimeout(10, TimeUnit.MILLISECONDS);
            assertThrows(java.util.concurrent.ExecutionException.class, () -> mine.get(10, TimeUnit.SECONDS));
            cat.writeLine("hello");
            assertEquals("hello", cat.readline(Duration.ofSeconds(10)));
        } finally {
            DualPipe.Result r = cat.close();
            assertEquals(ExitStatus.ofExitCode(0), r.status());
        }
    }

    @ParameterizedTest
    @EnumSource(Poison.class)
    @Timeout(30)
    void aCallersPipelineExitLeavesItToEveryoneElse(Poison poison) throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-pipeline");
             Pipeline p = ChildProcess.pipeline(
                     ChildProcess.builder("cat").loop(loop),
                     ChildProcess.builder("sh", "-c", "cat; exit 3").loop(loop))) {
            poison.apply(p.onExit());
            poison.apply(p.first().onExit()); // a stage's future, which the pipeline also watches
            assertFalse(p.onExit().isDone());
            p.stdin().shutdownOutput();
            assertEquals(List.of(ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(3)), get(p.onExit()));
        }
    }

    /** The copies are still LoopFutures: blocking on an incomplete one from the loop thread fails fast. */
    @Test
    @Timeout(30)
    void blockingOnACopyFromTheLoopThreadStillFailsFast() throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-guard")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            try {
                assertTrue(onLoop(loop, () -> assertThrows(BlockingOnLoopException.class,
                        () -> cat.onExit().join())) != null);
                assertTrue(onLoop(loop, () -> assertThrows(BlockingOnLoopException.class,
                        () -> cat.onDrained().get())) != null);
                assertTrue(onLoop(loop, () -> assertThrows(BlockingOnLoopException.class,
                        () -> cat.stdout().endOfStream().get(1, TimeUnit.SECONDS))) != null);
                assertTrue(onLoop(loop, () -> assertThrows(BlockingOnLoopException.class,
                        () -> cat.terminate(Duration.ofSeconds(10)).join())) != null);
            } finally {
                cat.close();
            }
            assertTrue(get(cat.onExit()).signaled());
        }
    }
}
