package io.dualpipe.nats;

import io.dualpipe.process.ChildProcess;
import io.dualpipe.worker.Envelope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Envelopes a worker sends while it runs a task carry that task's id to its submitter, which hands
 * them to the task's own listener; envelopes no task owns (broadcast acknowledgements) go to every
 * submitter's {@code onMessage}, and a task's progress to no other submitter.
 */
class NatsProgressTest {

    private static Envelope take(LinkedBlockingQueue<Envelope> q) throws InterruptedException {
        Envelope e = q.poll(30, TimeUnit.SECONDS);
        assertNotNull(e, "no envelope in 30 s");
        return e;
    }

    @Test
    @Timeout(90)
    void aWorkersProgressReachesTheListenerOfTheTaskItRuns(@TempDir Path dir) throws Exception {
        LinkedBlockingQueue<Envelope> mine = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Envelope> theirs = new LinkedBlockingQueue<>();
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("prog").onMessage(mine::add).start();
             NatsWorkerPool other = NatsWorkerPool.builder().server(nats.url()).pool("prog").onMessage(theirs::add).start();
             NatsAgent agent = NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                     .server(nats.url()).pool("prog").name("a").workers(2).start()) {
            List<LinkedBlockingQueue<Envelope>> perTask = new ArrayList<>();
            List<CompletableFuture<Object>> fs = new ArrayList<>();
            for (int i = 0; i < 6; i++) { // each emits one PROGRESS with its n: 999, 1999, ...
                LinkedBlockingQueue<Envelope> q = new LinkedBlockingQueue<>();
                perTask.add(q);
                fs.add(pool.submit(Fixtures.slow(0.2, 1000 * i + 999), q::add));
            }
            for (int i = 0; i < 6; i++) {
                long n = 1000L * i + 999;
                assertEquals(n * n, ((Number) fs.get(i).get(30, TimeUnit.SECONDS)).longValue());
                Envelope e = take(perTask.get(i));
                assertEquals("PROGRESS", e.request());
                assertEquals(n, ((Number) e.data()).longValue(), "task " + i + " got another task's progress");
                assertTrue(agent.workerPids().contains(e.senderPid()));
            }
            // the pool's own listener saw all six; each task's listener its own one only
            List<Long> seen = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                seen.add(((Number) take(mine).data()).longValue());
            }
            assertEquals(List.of(999L, 1999L, 2999L, 3999L, 4999L, 5999L), seen.stream().sorted().toList());
            perTask.forEach(q -> assertNull(q.poll(), "a second envelope for one task"));
            // an envelope no task owns goes to every submitter; the other never saw this one's progress
            pool.broadcast("CONFIG", 1);
            for (int i = 0; i < 2; i++) {
                assertEquals("ACK", take(theirs).request(), "the other submitter got a task's progress");
                assertEquals("ACK", take(mine).request());
            }
        }
    }
}
