package io.dualpipe.pool;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.pool.PoolTestSupport.SCRIPT;
import static io.dualpipe.pool.PoolTestSupport.allGone;
import static io.dualpipe.pool.PoolTestSupport.await;
import static io.dualpipe.pool.PoolTestSupport.failsWith;
import static io.dualpipe.pool.PoolTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The messages of a lost child name its status as it is known, never "null". */
class ChildPoolExitStatusTest {

    @Test
    @Timeout(60)
    void aChildThatExitsUnaskedNamesItsStatus() throws Exception {
        try (EventLoop loop = EventLoop.create("pool-status")) {
            ChildPool<String, String> pool = ChildPool.lines(ChildProcess.builder("python3", "-u", "-c", SCRIPT).loop(loop))
                    .children(1).start();
            ChildExitedException e = failsWith(ChildExitedException.class, pool.submit("die"));
            assertEquals(ExitStatus.ofExitCode(7), e.exitStatus());
            assertTrue(e.getMessage().contains("exited unasked (exit 7)"), e.getMessage());
            pool.close();
            get(pool.terminationFuture());
        }
    }

    /** The loop closed under the pool: a request in flight fails, and its message says why, not "(null)". */
    @Test
    @Timeout(60)
    void closingTheLoopUnderAPoolNamesNoNullStatus() throws Exception {
        for (int round = 0; round < 5; round++) {
            EventLoop loop = EventLoop.create("pool-loop-close");
            ChildPool<String, String> pool = ChildPool.lines(ChildProcess.builder("python3", "-u", "-c", SCRIPT).loop(loop))
                    .children(2).start();
            LoopFuture<String> a = pool.submit("sleep:30");
            LoopFuture<String> b = pool.submit("sleep:30");
            await(() -> "in flight: " + pool.metrics(), PoolTestSupport.STEP, () -> pool.metrics().inFlight() == 2);
            List<Long> pids = pool.childPids();
            loop.close();
            for (LoopFuture<String> f : List.of(a, b)) {
                Throwable e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS)).getCause();
                assertFalse(String.valueOf(e.getMessage()).contains("null"), "round " + round + ": " + e);
            }
            pool.terminationFuture().get(30, TimeUnit.SECONDS);
            await("children reaped", () -> allGone(pids));
        }
    }
}
