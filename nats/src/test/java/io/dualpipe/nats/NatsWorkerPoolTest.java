package io.dualpipe.nats;

import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The distributed pool's API with an agent in this JVM (Python workers) and a real nats-server. */
class NatsWorkerPoolTest {

    private static NatsAgent agent(NatsServer nats, String pool, int workers) {
        return NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                .server(nats.url()).pool(pool).name("in-jvm").workers(workers).start();
    }

    @Test
    @Timeout(60)
    void resultsErrorsProgressAndBroadcastsTravelAsWithTheLocalPool(@TempDir Path dir) throws Exception {
        LinkedBlockingQueue<Envelope> messages = new LinkedBlockingQueue<>();
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("api").onMessage(messages::add).start();
             NatsAgent agent = agent(nats, "api", 2)) {
            assertEquals(49L, ((Number) pool.submit(7).get(30, TimeUnit.SECONDS)).longValue());
            ExecutionException boom = assertThrows(ExecutionException.class, () -> pool.submit("boom").get(30, TimeUnit.SECONDS));
            assertInstanceOf(RemoteException.class, boom.getCause());
            assertTrue(boom.getCause().getMessage().contains("boom asked for"), boom.getCause().getMessage());

            assertEquals(999L * 999L, ((Number) pool.submit(999).get(30, TimeUnit.SECONDS)).longValue());
            Envelope progress = messages.poll(30, TimeUnit.SECONDS);
            assertEquals("PROGRESS", progress.request());
            assertEquals(999, ((Number) progress.data()).intValue());

            pool.broadcast("CONFIG", 5);
            for (int i = 0; i < 2; i++) { // one ACK per worker
                Envelope ack = messages.poll(30, TimeUnit.SECONDS);
                assertEquals("ACK", ack.request(), String.valueOf(ack));
                assertEquals(List.of("CONFIG", 5), ack.data());
            }

            ExecutionException bad = assertThrows(ExecutionException.class, () -> pool.submit(new Object()).get(5, TimeUnit.SECONDS));
            assertInstanceOf(EncodeException.class, bad.getCause());

            pool.whenIdle().get(30, TimeUnit.SECONDS);
            pool.shutdown().get(30, TimeUnit.SECONDS);
            assertEquals(2, agent.terminated().get(30, TimeUnit.SECONDS).size());
            ExecutionException late = assertThrows(ExecutionException.class, () -> pool.submit(1).get(5, TimeUnit.SECONDS));
            assertInstanceOf(PoolShutdownException.class, late.getCause());
            assertTrue(Fixtures.allGone(agent.workerPids()) || agent.workerPids().stream().allMatch(Fixtures::goneOrReparentedZombie));
        }
    }

    @Test
    @Timeout(60)
    void aFullStreamIsSaturationAtOnceOrAfterWaitingForRoom(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("full").maxQueued(5).start();
             NatsWorkerPool patient = NatsWorkerPool.builder().server(nats.url()).pool("full").waitForRoom(Duration.ofSeconds(30)).start()) {
            List<CompletableFuture<Object>> first = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                first.add(pool.submit(i));
            }
            // no agent yet: the stream fills; the sixth is refused, typed
            ExecutionException full = assertThrows(ExecutionException.class, () -> {
                CompletableFuture<Object> f = null;
                for (int i = 0; i < 50; i++) { // publishes are async: the first five may not be stored yet
                    f = pool.submit(100 + i);
                    try {
                        f.get(10, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        throw e;
                    } catch (java.util.concurrent.TimeoutException stillQueued) {
                        continue;
                    }
                }
            });
            assertInstanceOf(PoolSaturatedException.class, full.getCause());
            assertTrue(full.getCause().getMessage().contains("DUALPIPE_full"), full.getCause().getMessage());
            // a patient submitter waits for room, which the agent makes
            CompletableFuture<Object> waiting = patient.submit(12);
            try (NatsAgent agent = agent(nats, "full", 2)) {
                assertEquals(144L, ((Number) waiting.get(30, TimeUnit.SECONDS)).longValue());
                for (int i = 0; i < 5; i++) {
                    assertEquals((long) i * i, ((Number) first.get(i).get(30, TimeUnit.SECONDS)).longValue());
                }
            }
        }
    }
}
