package io.dualpipe.pool;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.pool.PoolTestSupport.SCRIPT;
import static io.dualpipe.pool.PoolTestSupport.allGone;
import static io.dualpipe.pool.PoolTestSupport.await;
import static io.dualpipe.pool.PoolTestSupport.failsWith;
import static io.dualpipe.pool.PoolTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChildPoolTest {

    private static ChildProcessBuilder python(EventLoop loop) {
        return ChildProcess.builder("python3", "-u", "-c", SCRIPT).loop(loop);
    }

    @Test
    @Timeout(60)
    void bcThatNeverAnswersOneLineCostsThatRequestAloneAndIsReplaced() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(ChildProcess.builder("bc", "-q").loop(loop))
                    .children(2).requestTimeout(Duration.ofSeconds(2)).start();
            List<Long> before = pool.childPids();
            // bc prints nothing for an assignment: without the pool's kill, the next reply would go to it
            PoolRequestTimeoutException timeout = failsWith(PoolRequestTimeoutException.class, pool.submit("x=5"));
            assertEquals(FailureCause.TIMEOUT, timeout.failureCause());
            assertTrue(timeout.getMessage().contains("'x=5'"), timeout.getMessage());
            List<LoopFuture<String>> replies = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                replies.add(pool.submit(i + "*7"));
            }
            for (int i = 0; i < 300; i++) {
                assertEquals(String.valueOf(i * 7), get(replies.get(i)), "request " + i);
            }
            await(() -> "2 children again: " + pool.metrics(), PoolTestSupport.STEP, () -> pool.metrics().ready() == 2);
            PoolMetrics m = pool.metrics();
            assertEquals(1, m.restarts(), m.toString());
            assertEquals(300, m.completed(), m.toString());
            assertEquals(1L, m.failedByCause().get(FailureCause.TIMEOUT), m.toString());
            assertEquals(1, before.stream().filter(p -> !pool.childPids().contains(p)).count(), "one child replaced");
            get(pool.shutdown(Duration.ofSeconds(5)));
            await("children reaped", () -> allGone(before) && allGone(pool.childPids()));
        }
    }

    @Test
    @Timeout(60)
    void sigkilledChildFailsItsRequestsTypedAndThePoolIsBackToN() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(3).start();
            List<LoopFuture<String>> slow = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                slow.add(pool.submit("sleep:30"));
            }
            await(() -> "3 in flight: " + pool.metrics(), PoolTestSupport.STEP, () -> pool.metrics().inFlight() == 3);
            long victim = pool.childPids().get(0);
            ProcessHandle.of(victim).orElseThrow().destroyForcibly();
            int lost = 0;
            for (LoopFuture<String> f : slow) {
                await("one request failed", () -> slow.stream().anyMatch(LoopFuture::isDone));
                if (f.isDone()) {
                    ChildExitedException e = failsWith(ChildExitedException.class, f);
                    assertEquals(victim, e.pid());
                    assertEquals(ExitStatus.ofSignal(9, false), e.exitStatus(), e.getMessage());
                    lost++;
                }
            }
            assertEquals(1, lost, "only the killed child's request failed");
            await(() -> "3 children again: " + pool.metrics(), PoolTestSupport.STEP,
                    () -> pool.metrics().ready() == 3 && !pool.childPids().contains(victim));
            assertEquals("42", get(pool.submit("6*7")));
            assertEquals(1, pool.metrics().restarts());
            pool.close();
            get(pool.terminationFuture());
            slow.forEach(f -> assertTrue(f.isDone()));
        }
    }

    @Test
    @Timeout(60)
    void crashLoopOpensTheBreakerAndRequestsFailFastWithTheCauseWithoutSpinning() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(
                            ChildProcess.builder("sh", "-c", "echo 'cannot load model' >&2; exit 1").loop(loop))
                    .children(2).backoff(Duration.ofMillis(10), Duration.ofMillis(40))
                    .breaker(4, Duration.ofSeconds(10), Duration.ofMillis(700)).start();
            // open, and the last child started before it opened is gone too
            await(() -> "breaker open: " + pool.metrics(), PoolTestSupport.STEP,
                    () -> pool.metrics().breaker().equals("OPEN") && pool.metrics().children() == 0);
            long spawnedAtOpen = pool.metrics().spawned();
            assertTrue(spawnedAtOpen <= 5, "4 crashes open it; at most one more child was starting: " + spawnedAtOpen);
            long t0 = System.nanoTime();
            BreakerOpenException e = failsWith(BreakerOpenException.class, pool.submit("1+1"));
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(200), "fails fast");
            ChildExitedException cause = (ChildExitedException) e.getCause();
            assertEquals(ExitStatus.ofExitCode(1), cause.exitStatus(), cause.getMessage());
            assertTrue(cause.stderrTail().contains("cannot load model"), cause.stderrTail());
            assertTrue(e.getMessage().contains("cannot load model"), e.getMessage());
            // half-open after 700 ms: one probe, which crashes and opens it again; never a spin
            await(() -> "a probe: " + pool.metrics(), PoolTestSupport.STEP, () -> pool.metrics().spawned() > spawnedAtOpen);
            PoolTestSupport.await(() -> "open again", PoolTestSupport.STEP, () -> pool.metrics().breaker().equals("OPEN"));
            long spawned = pool.metrics().spawned();
            assertTrue(spawned <= spawnedAtOpen + 2, "one probe per opening: " + spawned + " after " + spawnedAtOpen);
            assertTrue(pool.metrics().failedByCause().get(FailureCause.BREAKER_OPEN) >= 1);
            pool.close();
            get(pool.terminationFuture());
            assertEquals(0, PoolTestSupport.zombieCount());
        }
    }

    @Test
    @Timeout(60)
    void recyclesAChildAfterNRequestsWithoutLosingOne() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1).recycleAfterRequests(5).start();
            Set<String> pids = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                pids.add(get(pool.submit("pid")));
            }
            assertEquals(4, pids.size(), "a new child every 5 requests: " + pids);
            PoolMetrics m = pool.metrics();
            assertEquals(0, m.restarts(), m.toString());
            assertEquals(0, m.failed(), m.toString());
            assertTrue(m.recycled() >= 3, m.toString());
            List<Long> old = pids.stream().map(Long::parseLong).filter(p -> !pool.childPids().contains(p)).toList();
            await("retired children exit once their stdin is closed", () -> allGone(old));
            pool.close();
            get(pool.terminationFuture());
        }
    }

    @Test
    @Timeout(60)
    void recyclesByAgeAfterTheReplacementIsReady() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1)
                    .recycleAfterAge(Duration.ofMillis(500)).warmUp("ping", "ready"::equals).start();
            String first = get(pool.submit("pid"));
            await(() -> "replaced: " + pool.childPids(), PoolTestSupport.STEP,
                    () -> !pool.childPids().contains(Long.parseLong(first)) && pool.metrics().ready() == 1);
            assertFalse(first.equals(get(pool.submit("pid"))));
            assertEquals(0, pool.metrics().failed());
            pool.close();
        }
    }

    @Test
    @Timeout(60)
    void warmUpMustBeAnsweredBeforeAChildTakesWork() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> good = ChildPool.lines(python(loop)).children(2).warmUp("ping", "ready"::equals).start();
            assertEquals("9", get(good.submit("3*3")));
            good.close();
            // a warm-up whose reply is refused makes every child a crash: the breaker opens, naming it
            ChildPool<String, String> bad = ChildPool.lines(python(loop)).children(1).warmUp("1+1", "3"::equals)
                    .backoff(Duration.ofMillis(5), Duration.ofMillis(20)).breaker(2, Duration.ofSeconds(10), Duration.ofSeconds(30))
                    .start();
            LoopFuture<String> waiting = bad.submit("2*2");
            BreakerOpenException e = failsWith(BreakerOpenException.class, waiting);
            assertTrue(e.getMessage().contains("warm-up"), e.getMessage());
            assertEquals(2, bad.metrics().spawned());
            bad.close();
            get(bad.terminationFuture());
            get(good.terminationFuture());
        }
    }

    @Test
    @Timeout(60)
    void gracefulDrainFinishesTheWorkThenStopsEveryChild() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(2).start();
            List<Long> pids = pool.childPids();
            List<LoopFuture<String>> work = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                work.add(pool.submit("sleep:0.2"));
            }
            LoopFuture<Void> done = pool.shutdown(Duration.ofSeconds(10));
            failsWith(PoolShutdownException.class, pool.submit("1+1"));
            for (LoopFuture<String> f : work) {
                assertEquals("slept", get(f));
            }
            get(done);
            assertTrue(allGone(pids), "every child reaped");
            assertEquals(0, pool.metrics().children());
            assertEquals(0, PoolTestSupport.zombieCount());
        }
    }

    @Test
    @Timeout(60)
    void drainDeadlineFailsWhatIsLeftTypedAndStopsTheChildren() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1).stopGrace(Duration.ofMillis(100)).start();
            List<Long> pids = pool.childPids();
            LoopFuture<String> stuck = pool.submit("sleep:60");
            LoopFuture<String> queued = pool.submit("1+1");
            LoopFuture<Void> done = pool.shutdown(Duration.ofMillis(300));
            failsWith(PoolShutdownException.class, stuck);
            failsWith(PoolShutdownException.class, queued);
            get(done);
            assertTrue(allGone(pids));
            assertEquals(2L, pool.metrics().failedByCause().get(FailureCause.SHUTDOWN));
        }
    }

    @Test
    @Timeout(60)
    void abruptCloseFailsEverythingTyped() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1).start();
            LoopFuture<String> running = pool.submit("sleep:60");
            LoopFuture<String> queued = pool.submit("1+1");
            pool.close();
            failsWith(PoolShutdownException.class, running);
            failsWith(PoolShutdownException.class, queued);
            failsWith(PoolShutdownException.class, pool.submit("1+1"));
            get(pool.terminationFuture());
        }
    }

    @Test
    @Timeout(60)
    void fullQueueFailsFastOrLetsTheProducerWaitForRoom() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1).maxQueued(2).start();
            LoopFuture<String> first = pool.submit("sleep:0.3");
            await(() -> "in flight", PoolTestSupport.STEP, () -> pool.metrics().inFlight() == 1);
            LoopFuture<String> a = pool.submit("1+1");
            LoopFuture<String> b = pool.submit("2+2");
            failsWith(PoolSaturatedException.class, pool.submit("3+3"));
            LoopFuture<LoopFuture<String>> room = pool.submitWhenRoom("4+4");
            assertFalse(room.isDone(), "waits while the queue is full");
            assertEquals("slept", get(first));
            assertEquals("8", get(get(room)));
            assertEquals("2", get(a));
            assertEquals("4", get(b));
            assertEquals(1L, pool.metrics().failedByCause().get(FailureCause.SATURATED));
            pool.close();
        }
    }

    @Test
    @Timeout(60)
    void futuresCompleteOnTheGivenExecutor() throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "app-executor"));
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1).completeOn(executor).start();
            LoopFuture<String> slow = pool.submit("sleep:0.1");
            assertEquals("app-executor", get(slow.thenApply(r -> Thread.currentThread().getName())));
            // Attached before close(): a dependent attached to an already completed future runs on the caller.
            CompletableFuture<String> ended = pool.terminationFuture().thenApply(v -> Thread.currentThread().getName());
            pool.close();
            assertEquals("app-executor", get(ended));
        } finally {
            executor.shutdown();
        }
    }

    @Test
    @Timeout(60)
    void aChildWritingAMegabyteToStderrStillAnswersAndADyingChildQuotesItsStderr() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(1).stderrTail(1024).start();
            assertEquals("quiet", get(pool.submit("noise:1048576")));
            ChildExitedException e = failsWith(ChildExitedException.class, pool.submit("die"));
            assertEquals(ExitStatus.ofExitCode(7), e.exitStatus(), e.getMessage());
            assertTrue(e.stderrTail().endsWith("fatal: asked to die\n"), e.stderrTail());
            assertTrue(e.stderrTail().length() <= 1024, "bounded: " + e.stderrTail().length());
            assertTrue(e.getMessage().contains("fatal: asked to die"), e.getMessage());
            assertEquals("3", get(pool.submit("1+2")));
            assertEquals(1L, pool.metrics().failedByCause().get(FailureCause.CHILD_LOST), "counted as a lost child");
            pool.close();
        }
    }

    @Test
    @Timeout(60)
    void closeLeavesNoDescriptorChildZombieOrThread() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            get(ChildProcess.builder("true").loop(loop).start().onExit()); // the loop's own descriptors exist now
            int fds = PoolTestSupport.libraryFds();
            int threads = Thread.activeCount();
            for (int round = 0; round < 3; round++) {
                ChildPool<String, String> pool = ChildPool.lines(python(loop)).children(3)
                        .requestTimeout(Duration.ofSeconds(2)).warmUp("ping", "ready"::equals).start();
                List<Long> pids = new ArrayList<>(pool.childPids());
                failsWith(PoolRequestTimeoutException.class, pool.submit("skip"));
                assertEquals("4", get(pool.submit("2+2")));
                pids.addAll(pool.childPids());
                get(pool.shutdown(Duration.ofSeconds(5)));
                assertTrue(allGone(pids), "every child reaped");
            }
            await(() -> "fds back to " + fds + ": " + PoolTestSupport.libraryFds(), PoolTestSupport.STEP,
                    () -> PoolTestSupport.libraryFds() <= fds);
            assertEquals(0, PoolTestSupport.zombieCount());
            assertTrue(Thread.activeCount() <= threads, "threads: " + Thread.activeCount() + " > " + threads);
        }
    }
}
