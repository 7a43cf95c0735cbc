package io.dualpipe.review10;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import io.dualpipe.worker.SquareWorker;
import io.dualpipe.worker.WorkerExitedException;
import io.dualpipe.worker.WorkerPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * acb8b22 says a dead worker's tasks fail with its exit status and stderr tail. A task that was
 * waiting for that worker (submitTo, the worker busy at maxInFlight) is one of its tasks too, but it
 * is failed the moment the channel closes, before the exit is reaped and stderr has ended.
 */
class WorkerWaitingTaskTailTest {

    private static Throwable failure(LoopFuture<?> f) {
        return assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS)).getCause();
    }

    @Test
    @Timeout(90)
    void aTaskWaitingForADeadWorkerCarriesItsStatusAndTail() throws Exception {
        try (EventLoop loop = EventLoop.create("review10-waiting")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(1).maxInFlightPerWorker(1).respawn(false).loop(loop).start();
            long pid = pool.workerPids().get(0);
            LoopFuture<Object> first = pool.submitTo(pid, "complain:disk on fire");
            LoopFuture<Object> second = pool.submitTo(pid, 7);
            WorkerExitedException e1 = assertInstanceOf(WorkerExitedException.class, failure(first));
            assertEquals(ExitStatus.ofExitCode(5), e1.exitStatus(), e1.getMessage());
            WorkerExitedException e2 = assertInstanceOf(WorkerExitedException.class, failure(second));
            assertEquals(pid, e2.pid());
            assertEquals(ExitStatus.ofExitCode(5), e2.exitStatus(), e2.getMessage());
            assertTrue(e2.stderrTail().contains("disk on fire"), e2.stderrTail());
            pool.close();
        }
    }
}
