package io.dualpipe.nats;

import io.dualpipe.process.ChildProcess;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A task that runs for several ack waits keeps its one delivery: the agent's heartbeats
 * ({@code inProgress}) go on for as long as it runs, also after one of them could not be sent.
 * Two agents of one worker each: a redelivery would run the task again on the other, and the
 * worker's marks (one line per run) would show it.
 */
class NatsHeartbeatTest {

    private static NatsAgent agent(String name, Options options) {
        return NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                .options(options).pool("hb").name(name).workers(1).start();
    }

    private static Map<String, Object> marked(double seconds, int n, Path marks) {
        Map<String, Object> task = new HashMap<>(Fixtures.slow(seconds, n));
        task.put("mark", marks.toString());
        return task;
    }

    private static long runs(Path marks) {
        try {
            return Files.exists(marks) ? Files.readAllLines(marks).size() : 0;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Timeout(90)
    void aTaskFourAckWaitsLongRunsOnce(@TempDir Path dir) throws Exception {
        Path marks = dir.resolve("marks");
        try (NatsServer nats = NatsServer.start(dir.resolve("store"));
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("hb").ackWait(Duration.ofSeconds(1)).start();
             NatsAgent a = agent("a", new Options.Builder().server(nats.url()).errorListener(new ErrorListener() { }).build());
             NatsAgent b = agent("b", new Options.Builder().server(nats.url()).errorListener(new ErrorListener() { }).build())) {
            assertEquals(9L, ((Number) pool.submit(marked(4, 3, marks)).get(60, TimeUnit.SECONDS)).longValue());
            pool.shutdown().get(30, TimeUnit.SECONDS);
            a.terminated().get(30, TimeUnit.SECONDS);
            b.terminated().get(30, TimeUnit.SECONDS); // a second run, had there been one, is finished now
            assertEquals(1, runs(marks), "runs of the task");
            assertEquals(0, pool.duplicatesDropped());
        }
    }

    @Test
    @Timeout(120)
    void heartbeatsGoOnAfterOneCouldNotBeSent(@TempDir Path dir) throws Exception {
        Path marks = dir.resolve("marks");
        Duration ackWait = Duration.ofSeconds(9); // heartbeats every 3 s
        try (NatsServer nats = NatsServer.start(dir.resolve("store"))) {
            CompletableFuture<Void> disconnected = new CompletableFuture<>();
            // no reconnect buffer: a heartbeat while the server is away fails at once, as one does when the buffer is full
            Options.Builder opts = new Options.Builder().server(nats.url()).maxReconnects(-1).reconnectWait(Duration.ofMillis(50))
                    .reconnectBufferSize(0).errorListener(new ErrorListener() { });
            Options watched = new Options.Builder(opts.build()).connectionListener((c, e) -> {
                if (e == ConnectionListener.Events.DISCONNECTED) {
                    disconnected.complete(null);
                }
            }).build();
            try (NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("hb").ackWait(ackWait).start();
                 NatsAgent a = agent("a", watched)) {
                CompletableFuture<Object> task = pool.submit(marked(16, 4, marks));
                Fixtures.await("the task runs", () -> runs(marks) == 1);
                try (NatsAgent b = agent("b", opts.build())) { // idle: it would take a redelivery
                    nats.stop();
                    disconnected.get(20, TimeUnit.SECONDS);
                    // the outage is the scenario: it lasts longer than a heartbeat period, so one heartbeat fails
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3_300);
                    Fixtures.await("an outage of 3.3 s", () -> System.nanoTime() - until >= 0);
                    nats.restart();
                    assertEquals(16L, ((Number) task.get(60, TimeUnit.SECONDS)).longValue());
                    pool.shutdown().get(30, TimeUnit.SECONDS);
                    a.terminated().get(30, TimeUnit.SECONDS);
                    b.terminated().get(60, TimeUnit.SECONDS); // a second run, had there been one, is finished now
                }
                assertEquals(1, runs(marks), "runs of the task: " + List.of(Files.readString(marks)));
            }
        }
    }
}
