package io.dualpipe.nats;

import io.dualpipe.core.EventLoop;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.worker.Envelope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The distributed pool against a real nats-server, with agents in JVMs of their own (spawned with
 * {@link io.dualpipe.process.JavaChild}) or in this one, Python workers: volume, an agent SIGKILLed,
 * a poison task, a server restart, a drain.
 */
class NatsDistributedTest {

    /** Waits, bounded, until {@code condition} holds, re-checking on each completed future of {@code fs}. */
    private static void awaitCompleted(List<CompletableFuture<Object>> fs, int atLeast) throws Exception {
        CountDownLatch latch = new CountDownLatch(atLeast);
        fs.forEach(f -> f.whenComplete((v, e) -> latch.countDown()));
        assertTrue(latch.await(60, TimeUnit.SECONDS), "fewer than " + atLeast + " tasks completed in 60 s");
    }

    private static void assertSquares(List<CompletableFuture<Object>> fs, int from) throws Exception {
        for (int i = 0; i < fs.size(); i++) {
            long n = from + i;
            assertEquals(n * n, ((Number) fs.get(i).get(60, TimeUnit.SECONDS)).longValue(), "task " + n);
        }
    }

    private static List<CompletableFuture<Object>> submitAll(NatsWorkerPool pool, int n, AtomicInteger completions, Object... slow) {
        List<CompletableFuture<Object>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CompletableFuture<Object> f = pool.submit(slow.length > 0 ? Fixtures.slow((Double) slow[0], i) : i);
            f.whenComplete((v, e) -> completions.incrementAndGet());
            fs.add(f);
        }
        return fs;
    }

    @Test
    @Timeout(120)
    void tenThousandTasksThroughTwoAgentJvmsEachCompleteOnceWithTheExactResult(@TempDir Path dir) throws Exception {
        LinkedBlockingQueue<Envelope> progress = new LinkedBlockingQueue<>();
        try (NatsServer nats = NatsServer.start(dir);
             EventLoop loop = EventLoop.create("agents");
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("ten").onMessage(progress::add).start();
             AgentProcess a = AgentProcess.start(loop, nats.url(), "ten", "a", 2, Fixtures.script());
             AgentProcess b = AgentProcess.start(loop, nats.url(), "ten", "b", 2, Fixtures.script())) {
            AtomicInteger completions = new AtomicInteger();
            List<CompletableFuture<Object>> fs = submitAll(pool, 10_000, completions);
            pool.whenIdle().get(100, TimeUnit.SECONDS);
            assertSquares(fs, 0);
            assertEquals(10_000, completions.get());
            assertEquals(0, pool.duplicatesDropped());
            // the workers' progress envelopes (n % 1000 == 999) came too, from both machines' workers
            List<Long> senders = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Envelope e = progress.poll(30, TimeUnit.SECONDS);
                assertEquals("PROGRESS", e.request());
                senders.add(e.senderPid());
            }
            List<Long> workers = new ArrayList<>(a.workerPids);
            workers.addAll(b.workerPids);
            assertTrue(workers.containsAll(senders), senders + " not all in " + workers);

            pool.shutdown().get(30, TimeUnit.SECONDS);
            assertEquals(ExitStatus.ofExitCode(0), a.awaitExit());
            assertEquals(ExitStatus.ofExitCode(0), b.awaitExit());
            assertTrue(Fixtures.allGone(workers), "a worker outlived its agent: " + workers);
        }
    }

    @Test
    @Timeout(120)
    void aSigkilledAgentsTasksGoToTheOtherAgentAndAPoisonTaskFailsTypedAfterMaxDeliver(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             EventLoop loop = EventLoop.create("agents");
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("kill")
                     .ackWait(Duration.ofSeconds(2)).maxDeliver(2).start();
             AgentProcess a = AgentProcess.start(loop, nats.url(), "kill", "a", 3, Fixtures.script());
             AgentProcess b = AgentProcess.start(loop, nats.url(), "kill", "b", 3, Fixtures.script())) {
            AtomicInteger completions = new AtomicInteger();
            List<CompletableFuture<Object>> fs = submitAll(pool, 2_000, completions, 0.002);
            awaitCompleted(fs, 300);
            assertTrue(a.child.signal(9));
            assertEquals(9, a.awaitExit().signal());
            assertSquares(fs, 0); // 0 lost: a's unacknowledged tasks were delivered again, to b
            assertEquals(2_000, completions.get());
            // its orphaned workers saw their stdin end and left
            for (long pid : a.workerPids) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!Fixtures.goneOrReparentedZombie(pid) && System.nanoTime() < deadline) {
                    ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(1, TimeUnit.SECONDS).exceptionally(t -> h).join());
                }
                assertTrue(Fixtures.goneOrReparentedZombie(pid), "worker " + pid + " of the killed agent still runs");
            }

            // a task that kills every worker it touches: 2 deliveries (2 workers of b die), then a typed failure
            ExecutionException poison = assertThrows(ExecutionException.class, () -> pool.submit("die").get(60, TimeUnit.SECONDS));
            TaskFailedException failed = assertInstanceOf(TaskFailedException.class, poison.getCause());
            assertEquals(2, failed.deliveries());
            assertTrue(failed.getMessage().contains("maxDeliver 2"), failed.getMessage());
            assertEquals(1_000_000L, ((Number) pool.submit(1000).get(30, TimeUnit.SECONDS)).longValue()); // b still serves
            pool.shutdown().get(30, TimeUnit.SECONDS);
            assertEquals(ExitStatus.ofExitCode(0), b.awaitExit());
        }
    }

    @Test
    @Timeout(120)
    void aServerRestartedMidRunLosesNothingAndEveryoneReconnects(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("restart").ackWait(Duration.ofSeconds(2)).start();
             NatsAgent a = inJvmAgent(nats, "restart", "a");
             NatsAgent b = inJvmAgent(nats, "restart", "b")) {
            AtomicInteger completions = new AtomicInteger();
            List<CompletableFuture<Object>> fs = submitAll(pool, 2_000, completions, 0.001);
            pool.whenIdle(); // not waited: only to show nothing blocks
            awaitCompleted(fs, 300);
            nats.restart(); // same port, same store
            assertSquares(fs, 0);
            assertEquals(2_000, completions.get());
            // new work after the restart goes through the same connections
            AtomicInteger after = new AtomicInteger();
            List<CompletableFuture<Object>> more = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                CompletableFuture<Object> f = pool.submit(2_000 + i);
                f.whenComplete((v, e) -> after.incrementAndGet());
                more.add(f);
            }
            assertSquares(more, 2_000);
            pool.shutdown().get(30, TimeUnit.SECONDS);
            a.terminated().get(30, TimeUnit.SECONDS);
            b.terminated().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(120)
    void dieDrainsEveryAgentAndTheTasksLeftInTheStreamWaitForTheNext(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             EventLoop loop = EventLoop.create("agents");
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("die").start();
             NatsWorkerPool other = NatsWorkerPool.builder().server(nats.url()).pool("die").start();
             AgentProcess a = AgentProcess.start(loop, nats.url(), "die", "a", 2, Fixtures.script());
             AgentProcess b = AgentProcess.start(loop, nats.url(), "die", "b", 2, Fixtures.script())) {
            AtomicInteger completions = new AtomicInteger();
            List<CompletableFuture<Object>> fs = submitAll(pool, 300, completions, 0.02);
            awaitCompleted(fs, 10);
            other.shutdown().get(30, TimeUnit.SECONDS); // DIE now: the other submitter has nothing outstanding
            assertEquals(ExitStatus.ofExitCode(0), a.awaitExit());
            assertEquals(ExitStatus.ofExitCode(0), b.awaitExit());
            List<Long> workers = new ArrayList<>(a.workerPids);
            workers.addAll(b.workerPids);
            assertTrue(Fixtures.allGone(workers), "no child left, no zombie: " + workers);
            int drained = completions.get();
            assertTrue(drained < 300, "the drain stopped pulling: " + drained);
            // what the drained agents held was finished; the rest waits in the stream for the next agent
            try (NatsAgent next = inJvmAgent(nats, "die", "next")) {
                for (int i = 0; i < fs.size(); i++) {
                    assertEquals((long) i * i, ((Number) fs.get(i).get(60, TimeUnit.SECONDS)).longValue(), "task " + i);
                }
            }
            assertEquals(300, completions.get());
        }
    }

    private static NatsAgent inJvmAgent(NatsServer nats, String pool, String name) {
        return NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                .server(nats.url()).pool(pool).name(name).workers(2).start();
    }
}
