package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Review reproducers for WorkerPool. */
class WorkerPoolReviewTest {

    /**
     * shutdown() handed every caller the pool's own future: the first caller's cancel (or
     * orTimeout) reached every later caller, who saw "cancelled" although the workers exited.
     */
    @Test
    @Timeout(90)
    void aCallerCancellingItsShutdownFutureDoesNotPoisonAnotherCallers() throws Exception {
        try (EventLoop loop = EventLoop.create("pool-review")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            pool.shutdown().cancel(false); // one caller gives up waiting
            LoopFuture<List<ExitStatus>> other = pool.shutdown();
            assertFalse(other.isCancelled(), "another caller's cancel reached this caller's future");
            assertEquals(1, other.get(60, TimeUnit.SECONDS).size());
        }
    }
}
