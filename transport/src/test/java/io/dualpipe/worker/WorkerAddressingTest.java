package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.TestLoops.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Broadcasts reaching Java workers, and the parent addressing one worker: submitTo, sendTo. */
class WorkerAddressingTest {

    /** Collects the workers' ACK envelopes by sender, completing {@code all} once {@code n} senders answered. */
    private static final class Acks {
        final Map<Long, Envelope> bySender = new ConcurrentHashMap<>();
        final CompletableFuture<Void> all = new CompletableFuture<>();
        final int n;

        Acks(int n) {
            this.n = n;
        }

        void accept(Envelope e) {
            if (e.is("ACK") && bySender.putIfAbsent(e.senderPid(), e) == null && bySender.size() == n) {
                all.complete(null);
            }
        }
    }

    private static long number(LoopFuture<Object> f) throws Exception {
        return ((Number) f.get(30, TimeUnit.SECONDS)).longValue();
    }

    private static Throwable failure(LoopFuture<?> f) {
        return assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS)).getCause();
    }

    @Test
    @Timeout(60)
    void aBroadcastOfACustomWordReachesEveryJavaWorkerWhichAcknowledges() throws Exception {
        Acks acks = new Acks(3);
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(3).loop(loop).onMessage(acks::accept).start();
            pool.broadcast("CONFIG", Map.of("scale", 2));
            acks.all.get(30, TimeUnit.SECONDS);
            assertEquals(Set.copyOf(pool.workerPids()), acks.bySender.keySet());
            for (Envelope ack : acks.bySender.values()) {
                assertEquals(List.of("CONFIG", "{scale=2}"), ack.data());
            }
            assertEquals(49L, number(pool.submit(7)), "the handler left the workers serving tasks");
            assertEquals(List.of(ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(0)),
                    pool.shutdown().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void broadcastRefusesABadWordOrPayloadOnTheCallersThread() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            assertTrue(assertThrows(InvalidArgumentException.class, () -> pool.broadcast(null, 1)).getMessage().contains("request is null"));
            assertTrue(assertThrows(InvalidArgumentException.class, () -> pool.broadcast("", 1)).getMessage().contains("request is empty"));
            String bad = assertThrows(EncodeException.class, () -> pool.broadcast("CONFIG", new Object())).getMessage();
            assertTrue(bad.startsWith("envelope CONFIG: payload is not JSON-serialisable"), bad);
            assertEquals(List.of(ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void sendToReachesOnlyTheChosenWorkerAndAThrowingHandlerDoesNotStopIt() throws Exception {
        Acks acks = new Acks(1);
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(2).loop(loop).onMessage(acks::accept).start();
            long chosen = pool.workerPids().get(1);
            pool.sendTo(chosen, "THROW", null).get(30, TimeUnit.SECONDS);
            pool.sendTo(chosen, "CONFIG", 5).get(30, TimeUnit.SECONDS);
            acks.all.get(30, TimeUnit.SECONDS);
            // both workers answer a task after the acknowledgement, so any ACK from the other would be in by now
            assertEquals(pool.workerPids().get(0), number(pool.submitTo(pool.workerPids().get(0), "pid")));
            assertEquals(chosen, number(pool.submitTo(chosen, "pid")));
            assertEquals(Set.of(chosen), acks.bySender.keySet());
            assertEquals(List.of("CONFIG", "5"), acks.bySender.get(chosen).data());
            assertEquals(List.of(ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void submitToRunsEveryTaskOnTheChosenWorker() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(3).maxInFlightPerWorker(2).loop(loop).start();
            Map<Long, List<LoopFuture<Object>>> byWorker = new java.util.HashMap<>();
            for (int i = 0; i < 50; i++) {
                for (long p : pool.workerPids()) {
                    byWorker.computeIfAbsent(p, k -> new ArrayList<>()).add(pool.submitTo(p, "pid"));
                }
            }
            for (Map.Entry<Long, List<LoopFuture<Object>>> e : byWorker.entrySet()) {
                for (LoopFuture<Object> f : e.getValue()) {
                    assertEquals(e.getKey(), number(f));
                }
            }
            assertEquals(144L, number(pool.submitTo(pool.workerPids().get(2), 12)));
            pool.whenIdle().get(30, TimeUnit.SECONDS);
            assertEquals(3, pool.shutdown().get(30, TimeUnit.SECONDS).size());
        }
    }

    @Test
    @Timeout(60)
    void aTaskForABusyWorkerWaitsForItWhileThePoolsTasksGoToTheOthers(@TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2).loop(loop).start();
            long busy = pool.workerPids().get(0);
            long free = pool.workerPids().get(1);
            LoopFuture<Object> waiting;
            LoopFuture<Object> blocked;
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                blocked = pool.submitTo(busy, "wait:" + gateFile);
                waiting = pool.submitTo(busy, "pid");
                for (int i = 0; i < 5; i++) {
                    assertEquals(free, number(pool.submit("pid")), "a pool task went to the free worker");
                }
                drain(loop);
                assertFalse(waiting.isDone(), "the task for the busy worker waits behind its current task");
                assertFalse(pool.isIdle());
            }
            assertEquals(0L, number(blocked));
            assertEquals(busy, number(waiting));
            pool.whenIdle().get(30, TimeUnit.SECONDS);
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void anUnknownPidOrAOneWayDoIsATypedErrorNamingTheValue() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            long stranger = ProcessHandle.current().pid();
            LoopFuture<Object> task = pool.submitTo(stranger, 3);
            assertTrue(task.isCompletedExceptionally(), "refused on the caller's thread");
            String message = assertInstanceOf(InvalidArgumentException.class, failure(task)).getMessage();
            assertTrue(message.startsWith("submitTo: workerPid " + stranger + " is not a worker of this pool, whose workers are "
                    + pool.workerPids()), message);

            LoopFuture<Void> one = pool.sendTo(stranger, "CONFIG", 1);
            assertTrue(one.isCompletedExceptionally(), "refused on the caller's thread");
            message = assertInstanceOf(InvalidArgumentException.class, failure(one)).getMessage();
            assertTrue(message.startsWith("sendTo: workerPid " + stranger + " is not a worker"), message);

            long worker = pool.workerPids().get(0);
            message = assertInstanceOf(InvalidArgumentException.class, failure(pool.sendTo(worker, "DO", 1))).getMessage();
            assertTrue(message.contains("\"DO\"") && message.contains("submitTo"), message);
            assertInstanceOf(InvalidArgumentException.class, failure(pool.sendTo(worker, null, 1)));
            assertInstanceOf(InvalidArgumentException.class, failure(pool.sendTo(worker, "", 1)));
            message = assertInstanceOf(EncodeException.class, failure(pool.sendTo(worker, "CONFIG", new Object()))).getMessage();
            assertTrue(message.startsWith("envelope CONFIG: payload is not JSON-serialisable"), message);
            assertInstanceOf(EncodeException.class, failure(pool.submitTo(worker, new Object())));

            assertTrue(pool.isIdle());
            assertEquals(9L, number(pool.submitTo(worker, 3)));
            assertEquals(List.of(ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void tasksForAWorkerThatDiesFailWithWorkerExitedAndLaterOnesAreRefused(@TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2).loop(loop).start();
            long doomed = pool.workerPids().get(0);
            long other = pool.workerPids().get(1);
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                LoopFuture<Object> running = pool.submitTo(doomed, "wait:" + gateFile);
                LoopFuture<Object> waiting = pool.submitTo(doomed, 4);
                drain(loop);
                assertTrue(ProcessHandle.of(doomed).orElseThrow().destroyForcibly());
                assertInstanceOf(WorkerExitedException.class, failure(running));
                Throwable w = assertInstanceOf(WorkerExitedException.class, failure(waiting));
                assertTrue(w.getMessage().contains("worker " + doomed), w.getMessage());
            }
            // the waiting task failed once the pool knew the worker was gone: later calls are refused at once
            LoopFuture<Object> late = pool.submitTo(doomed, 5);
            assertTrue(late.isCompletedExceptionally(), "refused on the caller's thread");
            String message = assertInstanceOf(InvalidArgumentException.class, failure(late)).getMessage();
            assertTrue(message.equals("submitTo: workerPid " + doomed + " has exited: only a live worker of this pool takes tasks and envelopes"), message);
            assertInstanceOf(InvalidArgumentException.class, failure(pool.sendTo(doomed, "CONFIG", 1)));
            assertEquals(25L, number(pool.submitTo(other, 5)));
            assertEquals(36L, number(pool.submit(6)));
            pool.whenIdle().get(30, TimeUnit.SECONDS);
            List<ExitStatus> statuses = pool.shutdown().get(30, TimeUnit.SECONDS);
            assertFalse(statuses.get(0).isSuccess(), String.valueOf(statuses));
            assertEquals(ExitStatus.ofExitCode(0), statuses.get(1));
        }
    }

    @Test
    @Timeout(60)
    void tasksForOneWorkerCountTowardsMaxQueued(@TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(2).maxQueued(2).loop(loop).start();
            long busy = pool.workerPids().get(0);
            List<LoopFuture<Object>> accepted = new ArrayList<>();
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                accepted.add(pool.submitTo(busy, "wait:" + gateFile));
                drain(loop); // it has left the queue for the worker
                accepted.add(pool.submitTo(busy, 1));
                accepted.add(pool.submitTo(busy, 2));
                LoopFuture<Object> third = pool.submitTo(busy, 3);
                assertTrue(third.isCompletedExceptionally(), "refused on the caller's thread");
                String message = assertInstanceOf(PoolSaturatedException.class, failure(third)).getMessage();
                assertTrue(message.contains("maxQueued 2"), message);
                // the bound is the pool's: a task for any worker is refused while two wait
                assertInstanceOf(PoolSaturatedException.class, failure(pool.submit(4)));
                assertInstanceOf(PoolSaturatedException.class, failure(pool.submitTo(pool.workerPids().get(1), 4)));
            }
            assertEquals(0L, number(accepted.get(0)));
            assertEquals(1L, number(accepted.get(1)));
            assertEquals(4L, number(accepted.get(2)));
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void shutdownWaitsForTasksSubmittedToOneWorkerAndThenRefusesSubmitToAndSendTo(@TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2).loop(loop).start();
            long busy = pool.workerPids().get(1);
            List<LoopFuture<Object>> tasks = new ArrayList<>();
            LoopFuture<List<ExitStatus>> shutdown;
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                tasks.add(pool.submitTo(busy, "wait:" + gateFile));
                for (int i = 1; i <= 10; i++) {
                    tasks.add(pool.submitTo(busy, i));
                }
                shutdown = pool.shutdown();
                LoopFuture<Object> late = pool.submitTo(busy, 3);
                assertTrue(late.isCompletedExceptionally(), "refused on the caller's thread");
                String message = assertInstanceOf(PoolShutdownException.class, failure(late)).getMessage();
                assertTrue(message.matches("submitTo refused: the pool is SHUTTING_DOWN: .*shutdown\\(\\).*"), message);
                message = assertInstanceOf(PoolShutdownException.class, failure(pool.sendTo(busy, "CONFIG", 1))).getMessage();
                assertTrue(message.startsWith("sendTo refused: the pool is SHUTTING_DOWN"), message);
                drain(loop);
                assertFalse(shutdown.isDone(), "DIE went out while a worker still had tasks submitted to it");
            }
            assertEquals(List.of(ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(0)), shutdown.get(30, TimeUnit.SECONDS));
            assertEquals(0L, number(tasks.get(0)));
            for (int i = 1; i <= 10; i++) {
                assertEquals((long) i * i, number(tasks.get(i)), "task " + i);
            }
            // after the workers exited, shutdown is still the reason given, not the dead pid
            String afterwards = failure(pool.submitTo(busy, 3)).getMessage();
            assertTrue(afterwards.startsWith("submitTo refused: the pool is TERMINATED"), afterwards);
        }
    }

    @Test
    @Timeout(60)
    void sendToDieStopsOneWorkerAndThePoolCarriesOn() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2).loop(loop).start();
            long stopped = pool.workerPids().get(0);
            long other = pool.workerPids().get(1);
            pool.sendTo(stopped, Envelope.DIE, null).get(30, TimeUnit.SECONDS);
            ProcessHandle.of(stopped).ifPresent(h -> h.onExit().join()); // gone already, or wait (bounded by @Timeout)
            assertEquals(other, number(pool.submitTo(other, "pid")));
            assertEquals(List.of(ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void aJavaWorkerAnswersARequestOfAnotherWordThanDoWithAnError() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            ChildProcess child = JavaChild.builder(SquareWorker.class).loop(loop).start();
            MessageChannel channel = MessageChannel.builder(Worker.codecs()).open(child.stdout(), child.stdin());
            LoopFuture<Envelope> asked = channel.request(new Envelope("CONFIG", ProcessHandle.current().pid(), child.pid(), 1), Envelope.class);
            String message = assertInstanceOf(RemoteException.class, failure(asked)).getMessage();
            assertTrue(message.contains("a worker answers requests of DO only, not \"CONFIG\""), message);
            Envelope done = channel.request(new Envelope(Envelope.DO, ProcessHandle.current().pid(), child.pid(), 6), Envelope.class)
                    .get(30, TimeUnit.SECONDS);
            assertEquals(Envelope.FINISHED, done.request());
            assertEquals(36L, ((Number) done.data()).longValue());
            channel.close(); // the worker's stdin ends: it returns
            assertEquals(ExitStatus.ofExitCode(0), child.onExit().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void closeFailsTasksWaitingForOneWorker(@TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            long worker = pool.workerPids().get(0);
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                LoopFuture<Object> running = pool.submitTo(worker, "wait:" + gateFile);
                LoopFuture<Object> waiting = pool.submitTo(worker, 2);
                pool.close();
                assertInstanceOf(WorkerExitedException.class, failure(running));
                assertInstanceOf(WorkerExitedException.class, failure(waiting));
            }
            assertTrue(failure(pool.submitTo(worker, 1)).getMessage().startsWith("submitTo refused: the pool is CLOSED"));
            assertTrue(failure(pool.sendTo(worker, "CONFIG", 1)).getMessage().startsWith("sendTo refused: the pool is CLOSED"));
            pool.whenIdle().get(30, TimeUnit.SECONDS);
        }
    }
}
