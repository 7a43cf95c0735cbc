package io.dualpipe.nats;

import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Results published while nats-server restarts reach their submitter: a restarting server recovers
 * its streams before their consumers, and a result stored in between must not be dropped as one
 * nobody wants. Three restarts in one run of short tasks, results flowing throughout.
 */
class NatsRestartTest {

    private static NatsAgent agent(NatsServer nats, String name) {
        return NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                .server(nats.url()).pool("again").name(name).workers(2).start();
    }

    @Test
    @Timeout(180)
    void noResultIsLostAcrossThreeRestarts(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("again").ackWait(Duration.ofSeconds(2)).start();
             NatsAgent a = agent(nats, "a");
             NatsAgent b = agent(nats, "b")) {
            List<CompletableFuture<Object>> fs = new ArrayList<>();
            for (int i = 0; i < 3_000; i++) {
                fs.add(pool.submit(i));
            }
            for (int restart = 1; restart <= 3; restart++) {
                CountDownLatch more = new CountDownLatch(300 * restart);
                fs.forEach(f -> f.whenComplete((v, e) -> more.countDown()));
                assertTrue(more.await(60, TimeUnit.SECONDS), "fewer than " + 300 * restart + " tasks completed");
                nats.restart();
            }
            try {
                CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                List<Integer> waiting = new ArrayList<>();
                for (int i = 0; i < fs.size(); i++) {
                    if (!fs.get(i).isDone()) {
                        waiting.add(i);
                    }
                }
                fail(waiting.size() + " tasks never completed (their results lost): " + waiting);
            }
            for (int i = 0; i < fs.size(); i++) {
                assertEquals((long) i * i, ((Number) fs.get(i).get()).longValue(), "task " + i);
            }
        }
    }
}
