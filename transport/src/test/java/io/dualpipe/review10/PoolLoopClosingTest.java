package io.dualpipe.review10;

import io.dualpipe.core.EventLoop;
import io.dualpipe.pool.ChildPool;
import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pool whose loop is closing (close() called on another thread, the loop thread still at work)
 * refuses tasks from other threads with LoopClosedException; PoolContext.onLoop then runs
 * Drain.loopEnded on the caller's thread, at once, as if the loop had ended and reaped the children.
 * It has not: the pool's termination future completes while its children are alive, and
 * loopEnded's writes to the members and queue race the loop thread, which still runs the pool's
 * callbacks (exits, failed replies) as it shuts down.
 */
class PoolLoopClosingTest {

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    @Timeout(60)
    void terminationIsNotReportedWhileTheClosingLoopHasNotReapedTheChildren() throws Exception {
        EventLoop loop = EventLoop.create("review10-closing");
        ChildPool<String, String> pool = ChildPool.lines(ChildProcess.builder("cat").loop(loop)).children(2).start();
        assertEquals("a", pool.submit("a").get(30, TimeUnit.SECONDS));
        List<Long> pids = pool.childPids();
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // Holds the loop thread (bounded) so that the loop stays in CLOSING while the test looks.
        loop.runOnLoop(() -> {
            blocked.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(blocked.await(30, TimeUnit.SECONDS));
        Thread closer = new Thread(loop::close, "review10-closer");
        closer.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!loop.isClosed() && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        assertTrue(loop.isClosed(), "close() began");
        boolean terminatedEarly;
        List<Long> stillAlive;
        try {
            pool.shutdown(Duration.ofSeconds(10));
            terminatedEarly = pool.terminationFuture().isDone();
            stillAlive = pids.stream().filter(PoolLoopClosingTest::alive).toList();
        } finally {
            release.countDown();
            closer.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertFalse(terminatedEarly && !stillAlive.isEmpty(),
                "the pool reported termination while its children " + stillAlive + " were alive and the loop still closing");
        pool.terminationFuture().get(30, TimeUnit.SECONDS);
        for (long pid : pids) {
            assertFalse(alive(pid), "child " + pid + " reaped once the loop ended");
        }
    }
}
