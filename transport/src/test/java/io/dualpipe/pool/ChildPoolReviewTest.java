package io.dualpipe.pool;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static io.dualpipe.pool.PoolTestSupport.SCRIPT;
import static io.dualpipe.pool.PoolTestSupport.allGone;
import static io.dualpipe.pool.PoolTestSupport.await;
import static io.dualpipe.pool.PoolTestSupport.failsWith;
import static io.dualpipe.pool.PoolTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Review reproducers for ChildPool: what a caller does to a future it was handed must stay with that caller. */
class ChildPoolReviewTest {

    private static ChildProcessBuilder python(EventLoop loop) {
        return ChildProcess.builder("python3", "-u", "-c", SCRIPT).loop(loop);
    }

    /**
     * terminationFuture() and shutdown() handed out the pool's own future: a caller's cancel (or
     * orTimeout, complete) changed it for every other holder, so a later shutdown() reported
     * "cancelled" although the pool drained and reaped its children.
     */
    @Test
    @Timeout(60)
    void aCallerCancellingItsTerminationFutureDoesNotPoisonShutdown() throws Exception {
        try (EventLoop loop = EventLoop.create("pool-review")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1).start();
            assertTrue(get(pool.submit("6*7")).equals("42"));
            List<Long> pids = pool.childPids();
            pool.terminationFuture().cancel(false); // one caller gives up waiting
            pool.terminationFuture().orTimeout(1, java.util.concurrent.TimeUnit.MILLISECONDS); // another bounds its wait
            LoopFuture<Void> done = pool.shutdown(Duration.ofSeconds(10));
            assertFalse(done.isCancelled(), "another caller's cancel reached this caller's future");
            get(done);
            await("children reaped", () -> allGone(pids));
        }
    }
}
