package io.dualpipe.pool;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.dualpipe.pool.PoolTestSupport.allGone;
import static io.dualpipe.pool.PoolTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A drain ends when nothing is queued or in flight, but a request refused while the pool drains
 * (the queue full, the breaker open) was counted as queued for a moment: the drain's last check
 * could see that moment, and nothing checked again once the refusal took it back, so shutdown()
 * waited for its deadline. Many producers race a shutdown here; its future must complete long
 * before the deadline, and every future handed out completes, with a reply or a typed refusal.
 */
class ChildPoolDrainRaceTest {
    private static final int ROUNDS = 20;
    private static final int PRODUCERS = 8;
    private static final int MAX_SUBMITS = 20_000; // per producer and round: the loops end by themselves
    private static final Duration DEADLINE = Duration.ofSeconds(120);
    private static final long BOUND_SECONDS = 15; // far below the deadline: only a missed drain check waits that long

    @Test
    @Timeout(600)
    void shutdownCompletesWhileManyThreadsSubmitAndEveryFutureCompletesTyped() throws Exception {
        try (EventLoop loop = EventLoop.create("drain-race")) {
            for (int round = 0; round < ROUNDS; round++) {
                runRound(round, ChildPool.lines(ChildProcess.builder("cat").loop(loop)).children(1).maxQueued(1).start());
            }
        }
    }

    /** The breaker opens and closes while producers submit: a request let in by the caller's check is refused on the loop. */
    @Test
    @Timeout(600)
    void shutdownCompletesWhileTheBreakerRefusesRequestsTakenBeforeItOpened() throws Exception {
        try (EventLoop loop = EventLoop.create("drain-race-breaker")) {
            // each child answers one request, then exits on the next: a crash every other request
            ChildProcessBuilder child = ChildProcess.builder("sh", "-c", "read l; echo \"$l\"; read l; exit 3").loop(loop);
            for (int round = 0; round < ROUNDS; round++) {
                runRound(round, ChildPool.lines(child).children(2).maxQueued(4)
                        .backoff(Duration.ofMillis(1), Duration.ofMillis(2))
                        .breaker(2, Duration.ofSeconds(10), Duration.ofMillis(5)).start());
            }
        }
    }

    private static void runRound(int round, ChildPool<String, String> pool) throws Exception {
        List<List<CompletableFuture<?>>> handed = new ArrayList<>();
        List<Thread> producers = new ArrayList<>();
        for (int t = 0; t < PRODUCERS; t++) {
            List<CompletableFuture<?>> mine = new ArrayList<>();
            handed.add(mine);
            boolean whenRoom = t % 2 == 1;
            Thread th = new Thread(() -> {
                for (int i = 0; i < MAX_SUBMITS; i++) {
                    CompletableFuture<?> f = whenRoom ? pool.submitWhenRoom("r" + i) : pool.submit("r" + i);
                    mine.add(f);
                    if (f.isCompletedExceptionally() && causeOf(f) instanceof PoolShutdownException) {
                        return; // the pool refuses work now
                    }
                }
            }, "producer-" + t);
            producers.add(th);
            th.start();
        }
        await(() -> "round " + round + ": some requests answered: " + pool.metrics(), PoolTestSupport.STEP,
                () -> pool.metrics().completed() + pool.metrics().failed() >= 50);
        List<Long> pids = pool.childPids();
        try {
            pool.shutdown(DEADLINE).get(BOUND_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            pool.close();
            fail("round " + round + ": shutdown did not complete within " + BOUND_SECONDS + " s though every producer was"
                    + " refused or done (deadline " + DEADLINE + "): " + pool.metrics());
        }
        for (Thread th : producers) {
            th.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(!th.isAlive(), th.getName() + " ended");
        }
        for (List<CompletableFuture<?>> mine : handed) {
            for (CompletableFuture<?> f : mine) {
                try {
                    Object v = f.get(BOUND_SECONDS, TimeUnit.SECONDS);
                    if (v instanceof CompletableFuture<?> inner) { // submitWhenRoom: the reply's future
                        inner.get(BOUND_SECONDS, TimeUnit.SECONDS);
                    }
                } catch (ExecutionException e) {
                    assertTyped(round, e.getCause());
                } catch (TimeoutException e) {
                    fail("round " + round + ": a future handed out never completed: " + pool.metrics());
                }
            }
        }
        PoolMetrics m = pool.metrics();
        assertEquals(0, m.queued(), m.toString());
        assertEquals(0, m.inFlight(), m.toString());
        await("round " + round + ": children reaped", () -> allGone(pids));
    }

    private static void assertTyped(int round, Throwable e) {
        if (!(e instanceof PoolShutdownException || e instanceof PoolSaturatedException || e instanceof BreakerOpenException
                || e instanceof ChildExitedException || e instanceof LoopClosedException)) {
            throw new AssertionError("round " + round + ": untyped failure " + e, e);
        }
    }

    private static Throwable causeOf(CompletableFuture<?> f) {
        try {
            f.getNow(null);
            return null;
        } catch (Exception e) {
            return e.getCause();
        }
    }
}
