package io.dualpipe.nats;

import io.dualpipe.nats.internal.Layout;
import io.nats.client.Connection;
import io.nats.client.Nats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 22, adversarial: 0c0984a (close() closes the result dispatcher, then deletes the consumer)
 * and 54a404f (start() flushes its subscriptions, bounded by publishTimeout). close twice and from
 * two threads at once, close with the server gone, and a start() that fails at its flush: no thread,
 * socket or server-side consumer may be left behind.
 */
class Review22NatsCloseTest {

    /** Threads that are not this JVM's before {@code before}: what a pool started and did not end. */
    private static List<String> newThreads(Set<Thread> before) {
        List<String> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && !before.contains(t) && !t.getName().equals("nats-server-log")) {
                out.add(t.getName());
            }
        }
        return out;
    }

    private static List<String> consumers(NatsServer nats, String pool) throws Exception {
        try (Connection c = Nats.connect(nats.url())) {
            return c.jetStreamManagement().getConsumerNames(new Layout(pool).resultStream());
        }
    }

    /** close(), then close() again: the consumer is deleted, nothing is left, the second call is quiet. */
    @Test
    @Timeout(120)
    void closeTwiceDeletesTheConsumerAndLeavesNothing(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            for (int round = 0; round < 3; round++) {
                Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
                int sockets = Fixtures.sockets();
                String name = "r22twice" + round;
                NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool(name).start();
                assertEquals(1, consumers(nats, name).size());
                pool.close();
                pool.close();
                assertEquals(List.of(), consumers(nats, name), "round " + round + ": consumers after close()");
                Fixtures.await("the pool's threads end: " + newThreads(before), () -> newThreads(before).isEmpty());
                Fixtures.await("the pool's sockets close", () -> Fixtures.sockets() <= sockets);
            }
        }
    }

    /**
     * close() from two threads at once (an application's shutdown hook and its main thread, say; the
     * class is thread-safe and close() idempotent): one closer's closeDispatcher throws
     * IllegalArgumentException ("already closed", logged at DEBUG), skips the deletes and goes on to
     * close the connection, under the other closer's deleteConsumer. The consumer stays on the server
     * until its inactive threshold, and late results are not purged: what 0c0984a fixed, back again.
     */
    @Test
    @Timeout(120)
    void closeFromTwoThreadsAtOnceDeletesTheConsumer(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             LogCapture log = new LogCapture("io.dualpipe.nats.internal.ResultReader")) {
            for (int round = 0; round < 20; round++) { // one round in a few loses the race
                String name = "r22both" + round;
                NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool(name).start();
                CountDownLatch go = new CountDownLatch(1);
                List<CompletableFuture<Void>> closers = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    CompletableFuture<Void> f = new CompletableFuture<>();
                    closers.add(f);
                    new Thread(() -> {
                        try {
                            go.await();
                            pool.close();
                            f.complete(null);
                        } catch (Throwable e) {
                            f.completeExceptionally(e);
                        }
                    }).start();
                }
                go.countDown();
                for (CompletableFuture<Void> f : closers) {
                    f.get(30, TimeUnit.SECONDS);
                }
                assertEquals(List.of(), consumers(nats, name), "round " + round + ": consumers after two concurrent close(); logged: "
                        + log.matching(m -> m.contains("not deleted") && m.contains(pool.submitterId())).stream()
                        .map(e -> e.getFormattedMessage()).toList());
            }
        }
    }

    /** The server is gone when close() is called: close is bounded and leaves no thread or socket. */
    @Test
    @Timeout(120)
    void closeWithTheServerGoneIsBoundedAndLeavesNothing(@TempDir Path dir) throws Exception {
        Set<Thread> before;
        int sockets;
        NatsWorkerPool pool;
        try (NatsServer nats = NatsServer.start(dir)) {
            before = new HashSet<>(Thread.getAllStackTraces().keySet());
            sockets = Fixtures.sockets();
            pool = NatsWorkerPool.builder().server(nats.url()).pool("r22gone").start();
            CompletableFuture<Object> pending = pool.submit(1); // no agent: stays pending
            nats.stop();
            long t0 = System.nanoTime();
            pool.close();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 15_000, "close() with the server gone took " + ms + " ms");
            assertThrows(java.util.concurrent.ExecutionException.class, () -> pending.get(10, TimeUnit.SECONDS));
        }
        Fixtures.await("the pool's threads end: " + newThreads(before), () -> newThreads(before).isEmpty());
        Fixtures.await("the pool's sockets close", () -> Fixtures.sockets() <= sockets);
    }

    /**
     * start() fails at its flush (publishTimeout far too short for the server's PONG, as for a slow or
     * overloaded server): the failure
     * closes the connection and stops the timer, but the durable result consumer it created just before
     * stays on the server until its inactive threshold (abandonedAfter, 1 h by default). A caller
     * retrying start() against a slow server leaves one consumer per attempt.
     */
    @Test
    @Timeout(120)
    void aStartThatFailsAtItsFlushDeletesItsResultConsumer(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            // create the streams first, so that only the flush can fail
            NatsWorkerPool.builder().server(nats.url()).pool("r22flush").start().close();
            Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
            int sockets = Fixtures.sockets();
            StreamUnavailableException e = assertThrows(StreamUnavailableException.class,
                    () -> NatsWorkerPool.builder().server(nats.url()).pool("r22flush").publishTimeout(Duration.ofNanos(1)).start());
            assertTrue(e.getMessage().contains("did not confirm"), e.getMessage());
            Fixtures.await("the failed start's threads end: " + newThreads(before), () -> newThreads(before).isEmpty());
            Fixtures.await("the failed start's sockets close", () -> Fixtures.sockets() <= sockets);
            assertEquals(List.of(), consumers(nats, "r22flush"), "result consumers left by a start() that failed");
        }
    }

    /**
     * close() while results stream in (an agent answering 300 tasks): every future ends (its result
     * or the pool's shutdown), the consumer is deleted, and the submitter's thread ends, though
     * handlers of the closed dispatcher may still be completing and acknowledging results.
     */
    @Test
    @Timeout(180)
    void closeWhileResultsAreInFlightEndsEveryFutureAndDeletesTheConsumer(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            for (int round = 0; round < 2; round++) {
                String name = "r22flight" + round;
                List<CompletableFuture<Object>> futures = new ArrayList<>();
                try (NatsAgent agent = NatsAgent.builder(() -> io.dualpipe.process.ChildProcess.builder("python3",
                        Fixtures.script().toString())).server(nats.url()).pool(name).name(name).workers(2).start()) {
                    NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool(name).start();
                    for (int i = 0; i < 300; i++) {
                        futures.add(pool.submit(i));
                    }
                    CompletableFuture.anyOf(futures.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
                    pool.close();
                    for (CompletableFuture<Object> f : futures) {
                        try {
                            f.get(10, TimeUnit.SECONDS);
                        } catch (java.util.concurrent.ExecutionException e) {
                            assertTrue(e.getCause() instanceof io.dualpipe.worker.PoolShutdownException, String.valueOf(e.getCause()));
                        }
                    }
                    assertEquals(List.of(), consumers(nats, name), "round " + round + ": consumers after close() mid-stream");
                }
                Fixtures.await("submitter threads end", () -> Fixtures.threads("dualpipe-nats-submitter-").isEmpty());
            }
        }
    }
}
