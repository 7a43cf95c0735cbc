package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import io.dualpipe.process.StderrMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker that dies fails its task with a {@link WorkerExitedException} (a
 * {@link ChildExitedException}) carrying its pid, its exit status and the tail of what it wrote to
 * stderr, as a {@link io.dualpipe.pool.ChildPool}'s children do.
 */
class WorkerStderrTailTest {

    private static Throwable failure(LoopFuture<?> f) {
        return assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS)).getCause();
    }

    @Test
    @Timeout(90)
    void aWorkerThatWritesToStderrAndExitsFailsItsTaskWithItsStatusAndStderrTail() throws Exception {
        try (EventLoop loop = EventLoop.create("worker-tail")) {
            // JavaChild's builder leaves stderr at StderrMode.TAIL, the default: the child keeps the tail
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            long pid = pool.workerPids().get(0);
            WorkerExitedException e = assertInstanceOf(WorkerExitedException.class,
                    failure(pool.submit("complain:model file is corrupt")));
            assertInstanceOf(ChildExitedException.class, e, "one type for a dead child, pool or not");
            assertEquals(pid, e.pid());
            assertEquals(ExitStatus.ofExitCode(5), e.exitStatus(), e.getMessage());
            assertTrue(e.stderrTail().contains("model file is corrupt"), e.stderrTail());
            assertTrue(e.getMessage().contains("worker " + pid) && e.getMessage().contains("model file is corrupt"),
                    e.getMessage());
            assertEquals(49L, ((Number) pool.submit(7).get(30, TimeUnit.SECONDS)).longValue(), "replaced");
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    /** A worker whose stderr is a pipe: the pool logs its lines and keeps their tail too. */
    @Test
    @Timeout(90)
    void withStderrAsAPipeThePoolKeepsTheTailItself() throws Exception {
        try (EventLoop loop = EventLoop.create("worker-tail-pipe")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class).stderr(StderrMode.PIPE))
                    .workers(1).respawn(false).loop(loop).start();
            long pid = pool.workerPids().get(0);
            WorkerExitedException e = assertInstanceOf(WorkerExitedException.class,
                    failure(pool.submit("complain:out of memory in layer 3")));
            assertEquals(pid, e.pid());
            assertEquals(ExitStatus.ofExitCode(5), e.exitStatus(), e.getMessage());
            assertTrue(e.stderrTail().contains("out of memory in layer 3"), e.stderrTail());
            pool.close();
        }
    }
}
