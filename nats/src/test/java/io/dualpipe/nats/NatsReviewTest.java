package io.dualpipe.nats;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.impl.Headers;
import io.dualpipe.nats.internal.Wire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review reproducers, each against a real nats-server with agents in this JVM: caller-owned
 * futures, submit racing shutdown and close, what close leaves behind, results and payloads too big
 * for NATS, late duplicate results, typed errors that name the value and the rule.
 */
class NatsReviewTest {

    /** A payload whose serialisation blocks until released: holds a submit between its checks. */
    public static final class Blocking {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        public int getN() throws InterruptedException {
            entered.countDown();
            assertTrue(release.await(30, TimeUnit.SECONDS));
            return 7;
        }
    }

    private static NatsAgent agent(NatsServer nats, String pool, String name, int workers) {
        return NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                .server(nats.url()).pool(pool).name(name).workers(workers).start();
    }

    private static Throwable failure(CompletableFuture<?> f) throws Exception {
        return assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS)).getCause();
    }

    @Test
    @Timeout(90)
    void aCallersCancelOfShutdownOrTerminatedReachesNoOtherCaller(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("fresh").start()) {
            CompletableFuture<Object> task = pool.submit(6); // no agent yet: shutdown() has to wait for it
            assertTrue(pool.shutdown().cancel(true));
            try (NatsAgent agent = agent(nats, "fresh", "a", 1)) {
                assertTrue(agent.terminated().cancel(true));
                assertEquals(36L, ((Number) task.get(30, TimeUnit.SECONDS)).longValue());
                pool.shutdown().get(30, TimeUnit.SECONDS); // the pool's own shutdown went on
                assertEquals(1, agent.drain().get(30, TimeUnit.SECONDS).size());
                assertEquals(1, agent.terminated().get(30, TimeUnit.SECONDS).size());
            }
        }
    }

    @Test
    @Timeout(60)
    void aSubmitRacingShutdownIsRefusedNotLeftWaitingAfterDie(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("race").start()) {
            Blocking payload = new Blocking();
            CompletableFuture<CompletableFuture<Object>> submitted = CompletableFuture.supplyAsync(() -> pool.submit(payload));
            assertTrue(payload.entered.await(20, TimeUnit.SECONDS));
            CompletableFuture<Void> down = pool.shutdown(); // DIE goes out: nothing of this submitter is outstanding yet
            down.get(20, TimeUnit.SECONDS);
            payload.release.countDown();
            // the task passed the first state check before shutdown(): it must not be stored for agents that got DIE
            assertInstanceOf(PoolShutdownException.class, failure(submitted.get(20, TimeUnit.SECONDS)));
            assertTrue(pool.isIdle());
        }
    }

    @Test
    @Timeout(60)
    void aSubmitRacingCloseFailsWithPoolShutdown(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("race").start();
            Blocking payload = new Blocking();
            CompletableFuture<CompletableFuture<Object>> submitted = CompletableFuture.supplyAsync(() -> pool.submit(payload));
            assertTrue(payload.entered.await(20, TimeUnit.SECONDS));
            pool.close();
            payload.release.countDown();
            Throwable e = failure(submitted.get(20, TimeUnit.SECONDS));
            assertInstanceOf(PoolShutdownException.class, e, String.valueOf(e));
            assertTrue(pool.isIdle());
        }
    }

    @Test
    @Timeout(60)
    void closeStopsTheAgentsThreadsEvenWhileItsCapacityIsTaken(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("leak").start()) {
            NatsAgent agent = agent(nats, "leak", "leaky", 1);
            pool.submit(Fixtures.slow(30, 1));
            Fixtures.await("the agent holds the task", () -> agent.held() == 1);
            agent.close();
            assertEquals(List.of(), Fixtures.threads("dualpipe-agent-leaky-pull"), "close() returned with the puller running");
            Fixtures.await("no thread of agent leaky left: " + Fixtures.threads("dualpipe-agent-leaky"),
                    () -> Fixtures.threads("dualpipe-agent-leaky").isEmpty());
            assertTrue(agent.terminated().isDone());
        }
    }

    @Test
    @Timeout(60)
    void aPoolAndAnAgentLeaveNoThreadOrSocketAfterClose(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            int sockets = Fixtures.sockets();
            NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("tidy").start();
            String id = pool.submitterId();
            try (NatsAgent agent = agent(nats, "tidy", "tidy", 1)) {
                assertEquals(4L, ((Number) pool.submit(2).get(30, TimeUnit.SECONDS)).longValue());
                pool.shutdown().get(30, TimeUnit.SECONDS);
                agent.terminated().get(30, TimeUnit.SECONDS);
            }
            pool.close();
            Fixtures.await("no thread of the pool or agent left: " + Fixtures.threads(id) + Fixtures.threads("dualpipe-agent-tidy"),
                    () -> Fixtures.threads(id).isEmpty() && Fixtures.threads("dualpipe-agent-tidy").isEmpty());
            Fixtures.await("sockets back to " + sockets, () -> Fixtures.sockets() <= sockets);
        }
    }

    @Test
    @Timeout(60)
    void aResultTooBigForNatsFailsTypedAtOnceAndTheAgentGoesOn(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("big").start();
             NatsAgent agent = agent(nats, "big", "a", 1)) {
            Throwable e = failure(pool.submit(Map.of("big", 2_000_000)));
            assertInstanceOf(EncodeException.class, e, String.valueOf(e));
            assertTrue(e.getMessage().contains("max_payload") && e.getMessage().contains("2000002"), e.getMessage());
            assertEquals(49L, ((Number) pool.submit(7).get(20, TimeUnit.SECONDS)).longValue());
            Fixtures.await("the agent holds no task", () -> agent.held() == 0); // it acknowledged the big one
        }
    }

    @Test
    @Timeout(60)
    void broadcastIsTypedAfterCloseAndOverMaxPayload(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("bc").start();
            EncodeException big = assertThrows(EncodeException.class, () -> pool.broadcast("CONFIG", "x".repeat(2_000_000)));
            assertTrue(big.getMessage().contains("max_payload"), big.getMessage());
            pool.close();
            PoolShutdownException closed = assertThrows(PoolShutdownException.class, () -> pool.broadcast("CONFIG", 1));
            assertTrue(closed.getMessage().contains("broadcast"), closed.getMessage());
        }
    }

    @Test
    @Timeout(60)
    void aFullStreamIsSaturationThatNamesTheLimit(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("full").maxQueued(3).start()) {
            List<CompletableFuture<Object>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(pool.submit(i));
            }
            Fixtures.await("three stored", () -> Fixtures.storedTasks(nats, "full") == 3);
            Throwable e = failure(pool.submit(3));
            assertInstanceOf(PoolSaturatedException.class, e);
            assertTrue(e.getMessage().contains("DUALPIPE_full") && e.getMessage().contains("maxQueued 3"), e.getMessage());
        }
    }

    @Test
    @Timeout(30)
    void anAgentCapacityBeyondAnIntIsRejectedTyped() {
        // a port nobody listens on: nothing could start even if the check were missing
        NatsAgent.Builder b = NatsAgent.builder(() -> ChildProcess.builder("true")).server("nats://127.0.0.1:1").workers(2);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> b.maxInFlightPerWorker(Integer.MAX_VALUE).start());
        assertTrue(e.getMessage().contains("workers 2") && e.getMessage().contains("maxInFlightPerWorker " + Integer.MAX_VALUE), e.getMessage());
    }

    @Test
    @Timeout(60)
    void aLateDuplicateOrAStrangersResultIsDroppedAndTheFutureKeepsItsValue(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("dup").start();
             NatsAgent agent = agent(nats, "dup", "a", 1);
             Connection raw = Nats.connect(nats.url())) {
            CompletableFuture<Object> f = pool.submit(5);
            assertEquals(25L, ((Number) f.get(20, TimeUnit.SECONDS)).longValue());
            String subject = "dualpipe.dup.results." + pool.submitterId();
            for (String task : new String[] {pool.submitterId() + ".1", pool.submitterId() + ".999"}) {
                Headers h = new Headers().add(Wire.TASK, task).add(Wire.STATUS, Wire.FINISHED).add(Wire.AGENT, "stranger");
                raw.jetStream().publish(subject, h, "-1".getBytes(StandardCharsets.UTF_8));
            }
            Fixtures.await("both dropped", () -> pool.duplicatesDropped() == 2);
            assertEquals(25L, ((Number) f.get()).longValue());
            assertTrue(pool.isIdle());
            pool.whenIdle().get(5, TimeUnit.SECONDS);
            assertEquals(9L, ((Number) pool.submit(3).get(20, TimeUnit.SECONDS)).longValue());
        }
    }

    @Test
    @Timeout(60)
    void closeDuringShutdownCompletesShutdownsFuture(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("cd").start();
            CompletableFuture<Object> task = pool.submit(1); // no agent: shutdown() waits for it
            Fixtures.await("stored", () -> Fixtures.storedTasks(nats, "cd") == 1);
            nats.stop(); // the DIE cannot be confirmed now
            CompletableFuture<Void> down = pool.shutdown();
            pool.close();
            assertInstanceOf(PoolShutdownException.class, failure(task));
            ExecutionException e = assertThrows(ExecutionException.class, () -> down.get(20, TimeUnit.SECONDS));
            assertInstanceOf(PoolShutdownException.class, e.getCause(), String.valueOf(e.getCause()));
        }
    }
}
