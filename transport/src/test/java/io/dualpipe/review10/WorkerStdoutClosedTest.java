package io.dualpipe.review10;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.worker.WorkerPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A worker whose pipes close while it lives on (it closed its stdout, it hangs after its writer
 * died) is marked dead by the pool but never killed: shutdown() then waits for its exit, which may
 * never come (here 120 s), and no later step of the pool kills it either. ChildPool kills such a
 * child after a short grace (Members.LOST_GRACE_NANOS).
 */
class WorkerStdoutClosedTest {

    @Test
    @Timeout(90)
    void shutdownDoesNotWaitForAWorkerThatClosedItsStdoutAndLivesOn() throws Exception {
        try (EventLoop loop = EventLoop.create("review10-stdout-closed")) {
            WorkerPool pool = WorkerPool.builder(() -> ChildProcess.builder("sh", "-c", "exec >&-; exec sleep 120"))
                    .workers(1).respawn(false).loop(loop).start();
            java.util.List<Long> pid = pool.workerPids(); // may be empty already: its stdout closes at once
            LoopFuture<Object> task = pool.submit(1);
            assertThrows(ExecutionException.class, () -> task.get(30, TimeUnit.SECONDS));
            try {
                pool.shutdown().get(20, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                pool.close();
                fail("shutdown() still waits, 20 s on, for worker " + pid
                        + " whose stdout closed: the pool never kills it");
            }
        }
    }
}
