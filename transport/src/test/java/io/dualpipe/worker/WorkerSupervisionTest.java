package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.JavaChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class WorkerSupervisionTest {

    private static long number(LoopFuture<Object> f) throws Exception {
        return ((Number) f.get(30, TimeUnit.SECONDS)).longValue();
    }

    private static Throwable failure(LoopFuture<?> f) {
        return assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS)).getCause();
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within 30 s: " + what);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }

    @Test
    @Timeout(90)
    void aKilledWorkerIsReplacedAndThePoolIsBackToN() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2).loop(loop).start();
            long victim = pool.workerPids().get(0);
            assertTrue(ProcessHandle.of(victim).orElseThrow().destroyForcibly());
            await("replaced: " + pool.workerPids(), () -> pool.workerPids().size() == 2 && !pool.workerPids().contains(victim));
            long fresh = pool.workerPids().get(1);
            assertEquals(fresh, number(pool.submitTo(fresh, "pid")));
            assertEquals(81L, number(pool.submit(9)));
            assertEquals(3, pool.shutdown().get(30, TimeUnit.SECONDS).size(), "the replaced worker's status is included");
        }
    }

    @Test
    @Timeout(90)
    void aTaskPastItsTimeoutFailsTypedAndItsWorkerIsKilledAndReplaced(@TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(1).maxInFlightPerWorker(2).loop(loop).start();
            long worker = pool.workerPids().get(0);
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                LoopFuture<Object> stuck = pool.submit("wait:" + gateFile, TaskOptions.defaults().timeout(Duration.ofMillis(500)));
                LoopFuture<Object> behind = pool.submit("wait:" + gateFile);
                TaskTimeoutException e = assertInstanceOf(TaskTimeoutException.class, failure(stuck));
                assertTrue(e.getMessage().contains("worker " + worker), e.getMessage());
                assertInstanceOf(WorkerExitedException.class, failure(behind), "its other task fails typed");
            }
            await("replaced: " + pool.workerPids(), () -> pool.workerPids().size() == 1 && !pool.workerPids().contains(worker));
            assertEquals(16L, number(pool.submit(4)));
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(90)
    void anIdempotentTaskIsRetriedOnAnotherWorkerAndAnOrdinaryOneIsNot(@TempDir Path dir) throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            // five deaths on purpose: keep the breaker (5 in 10 s by default) out of this test's way
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2)
                    .breaker(50, Duration.ofSeconds(10), Duration.ofSeconds(1)).loop(loop).start();
            assertEquals(1L, number(pool.submit("exitonce:" + dir.resolve("a"), TaskOptions.idempotent())));
            assertInstanceOf(WorkerExitedException.class, failure(pool.submit("exitonce:" + dir.resolve("b"))));
            assertInstanceOf(WorkerExitedException.class,
                    failure(pool.submit("exit", TaskOptions.idempotent().retries(2))), "dies every time: fails after 3 attempts");
            await("back to 2: " + pool.workerPids(), () -> pool.workerPids().size() == 2);
            assertEquals(4L, number(pool.submit(2)));
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(90)
    void aCrashLoopOpensTheBreakerAndTasksFailFastWithoutSpinning() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            AtomicInteger spawns = new AtomicInteger();
            WorkerPool pool = WorkerPool.builder(() -> {
                        spawns.incrementAndGet();
                        return ChildProcess.builder("sh", "-c", "exit 1");
                    })
                    .workers(2).backoff(Duration.ofMillis(10), Duration.ofMillis(40))
                    .breaker(3, Duration.ofSeconds(10), Duration.ofSeconds(60)).loop(loop).start();
            await("breaker open, no worker alive", () -> pool.workerPids().isEmpty() && pool.submit(1).isCompletedExceptionally());
            BreakerOpenException e = assertInstanceOf(BreakerOpenException.class, failure(pool.submit(2)));
            assertTrue(e.getMessage().contains("exit 1"), e.getMessage());
            int atOpen = spawns.get();
            assertTrue(atOpen <= 4, "3 crashes open it: " + atOpen + " spawns");
            LoopFuture<Void> later = new LoopFuture<>();
            loop.schedule(() -> later.complete(null), 300, TimeUnit.MILLISECONDS);
            later.get(30, TimeUnit.SECONDS);
            assertEquals(atOpen, spawns.get(), "no spawn while open");
            assertFalse(pool.workerPids().contains(0L));
            pool.close();
        }
    }

    @Test
    @Timeout(90)
    void respawnCanBeTurnedOff() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).respawn(false)
                    .loop(loop).start();
            assertInstanceOf(WorkerExitedException.class, failure(pool.submit("exit")));
            await("gone", () -> pool.workerPids().isEmpty());
            assertEquals(List.of(), pool.workerPids());
            assertInstanceOf(WorkerExitedException.class, failure(pool.submit(3)));
            pool.close();
        }
    }
}
