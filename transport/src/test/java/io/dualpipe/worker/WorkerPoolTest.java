package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dualpipe.TestLoops.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerPoolTest {

    @Test
    @Timeout(120)
    void fullDuplexStressWithJavaWorkers() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            AtomicInteger progress = new AtomicInteger();
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(4).maxInFlightPerWorker(8).loop(loop)
                    .onMessage(e -> {
                        if (e.is("PROGRESS")) {
                            progress.incrementAndGet();
                        }
                    })
                    .start();
            int n = 10_000;
            List<LoopFuture<Object>> results = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(i));
            }
            pool.whenIdle().get(60, TimeUnit.SECONDS);
            assertTrue(pool.isIdle());
            for (int i = 0; i < n; i++) {
                assertEquals((long) i * i, ((Number) results.get(i).get()).longValue(), "task " + i);
            }
            // progress messages travel on the same pipes as the replies; all of them arrive
            List<ExitStatus> statuses = pool.shutdown().get(30, TimeUnit.SECONDS);
            assertEquals(4, statuses.size());
            statuses.forEach(s -> assertEquals(ExitStatus.ofExitCode(0), s));
            assertEquals(n / 100, progress.get());
        }
    }

    @Test
    @Timeout(60)
    void aFailingTaskFailsAloneAndADeadWorkerFailsItsTask() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2).loop(loop).start();
            ExecutionException boom = assertThrows(ExecutionException.class, () -> pool.submit("boom").get(30, TimeUnit.SECONDS));
            assertInstanceOf(RemoteException.class, boom.getCause());
            assertTrue(boom.getCause().getMessage().contains("boom asked for"), boom.getCause().getMessage());
            assertEquals(49L, ((Number) pool.submit(7).get(30, TimeUnit.SECONDS)).longValue());

            ExecutionException died = assertThrows(ExecutionException.class, () -> pool.submit("exit").get(30, TimeUnit.SECONDS));
            assertInstanceOf(WorkerExitedException.class, died.getCause());
            // the other worker carries on
            assertEquals(64L, ((Number) pool.submit(8).get(30, TimeUnit.SECONDS)).longValue());
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void saturationIsATypedErrorNotAnUnboundedQueue() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class))
                    .workers(1).maxQueued(5).loop(loop).start();
            List<LoopFuture<Object>> accepted = new ArrayList<>();
            PoolSaturatedException saturated = null;
            for (int i = 0; i < 1_000 && saturated == null; i++) {
                LoopFuture<Object> f = pool.submit(i);
                if (f.isCompletedExceptionally()) {
                    saturated = (PoolSaturatedException) assertThrows(ExecutionException.class, f::get).getCause();
                } else {
                    accepted.add(f);
                }
            }
            assertTrue(saturated != null && saturated.getMessage().contains("maxQueued 5"), String.valueOf(saturated));
            for (LoopFuture<Object> f : accepted) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void aPythonWorkerSpeaksTheSameEnvelopes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path script = dir.resolve("worker.py");
        Files.writeString(script, String.join("\n",
                "import json, os, struct, sys",
                "inp, out = sys.stdin.buffer, sys.stdout.buffer",
                "def read_exact(n):",
                "    b = b''",
                "    while len(b) < n:",
                "        c = inp.read(n - len(b))",
                "        if not c: return None",
                "        b += c",
                "    return b",
                "while True:",
                "    h = read_exact(10)",
                "    if h is None: break",
                "    typ, flags, rid, length = struct.unpack('>BBII', h)",
                "    req, sender, recipient, data = json.loads(read_exact(length))",
                "    if req == 'DIE': break",
                "    if req == 'DO':",
                "        body = json.dumps(['FINISHED', os.getpid(), sender, data.upper()]).encode()",
                "        out.write(struct.pack('>BBII', 4, 2, rid, len(body)) + body)",
                "        out.flush()",
                ""));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> ChildProcess.builder("python3", script.toString()))
                    .workers(2).loop(loop).start();
            assertEquals("HELLO", pool.submit("hello").get(30, TimeUnit.SECONDS));
            assertEquals("WORKERS", pool.submit("workers").get(30, TimeUnit.SECONDS));
            assertEquals(List.of(ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(120)
    void tenThousandUnsendablePayloadsBehindABusyWorkerFailWithoutDisturbingThePool(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            LoopFuture<Object> slow;
            List<LoopFuture<Object>> bad = new ArrayList<>();
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                slow = pool.submit("wait:" + gateFile);
                for (int i = 0; i < 10_000; i++) {
                    bad.add(pool.submit(new Object()));
                }
                drain(loop); // every submit has reached the pool while the worker still waits
            }
            assertEquals(0L, ((Number) slow.get(30, TimeUnit.SECONDS)).longValue());
            pool.whenIdle().get(30, TimeUnit.SECONDS);
            for (LoopFuture<Object> f : bad) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
                assertInstanceOf(EncodeException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("not JSON-serialisable"), e.getCause().getMessage());
            }
            assertEquals(49L, ((Number) pool.submit(7).get(30, TimeUnit.SECONDS)).longValue());
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void aPayloadThatCannotBeSentFailsBeforeSubmitReturns() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            LoopFuture<Object> unserialisable = pool.submit(new Object());
            assertTrue(unserialisable.isCompletedExceptionally(), "failed on the caller's thread");
            EncodeException e = (EncodeException) assertThrows(ExecutionException.class, unserialisable::get).getCause();
            assertEquals(EnvelopeCodec.TYPE, e.type());
            assertTrue(e.getMessage().startsWith("envelope DO: payload is not JSON-serialisable"), e.getMessage());

            LoopFuture<Object> tooBig = pool.submit("x".repeat(io.dualpipe.core.codec.Frames.DEFAULT_MAX_FRAME_SIZE));
            assertTrue(tooBig.isCompletedExceptionally(), "failed on the caller's thread");
            String message = assertThrows(ExecutionException.class, tooBig::get).getCause().getMessage();
            assertTrue(message.contains("> maxFrameSize " + io.dualpipe.core.codec.Frames.DEFAULT_MAX_FRAME_SIZE), message);

            assertTrue(pool.isIdle());
            assertEquals(49L, ((Number) pool.submit(7).get(30, TimeUnit.SECONDS)).longValue());
            pool.shutdown().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void aReplyOtherThanFinishedFailsTheTaskNamingTheWord(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path script = dir.resolve("worker.py");
        Files.writeString(script, String.join("\n",
                "import json, os, struct, sys",
                "inp, out = sys.stdin.buffer, sys.stdout.buffer",
                "while True:",
                "    h = inp.read(10)",
                "    if len(h) < 10: break",
                "    typ, flags, rid, length = struct.unpack('>BBII', h)",
                "    req, sender, recipient, data = json.loads(inp.read(length))",
                "    if req == 'DIE': break",
                "    word = 'ERROR' if data == 'bad' else 'FINISHED'",
                "    body = json.dumps([word, os.getpid(), sender, data]).encode()",
                "    out.write(struct.pack('>BBII', 4, 2, rid, len(body)) + body)",
                "    out.flush()",
                ""));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> ChildProcess.builder("python3", script.toString()))
                    .workers(1).loop(loop).start();
            ExecutionException e = assertThrows(ExecutionException.class, () -> pool.submit("bad").get(30, TimeUnit.SECONDS));
            UnexpectedReplyException unexpected = assertInstanceOf(UnexpectedReplyException.class, e.getCause());
            assertTrue(unexpected.getMessage().contains("\"ERROR\""), unexpected.getMessage());
            assertTrue(unexpected.getMessage().contains("FINISHED"), unexpected.getMessage());
            assertEquals("ERROR", unexpected.reply().request());
            assertEquals("good", pool.submit("good").get(30, TimeUnit.SECONDS));
            assertEquals(List.of(ExitStatus.ofExitCode(0)), pool.shutdown().get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(60)
    void shutdownLetsQueuedTasksFinishBeforeThePoisonPill(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path gateFile = Files.createFile(dir.resolve("gate"));
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(2).loop(loop).start();
            List<LoopFuture<Object>> queued = new ArrayList<>();
            LoopFuture<List<ExitStatus>> shutdown;
            try (FileChannel gate = FileChannel.open(gateFile, StandardOpenOption.WRITE); FileLock held = gate.lock()) {
                queued.add(pool.submit("wait:" + gateFile));
                queued.add(pool.submit("wait:" + gateFile));
                for (int i = 1; i <= 20; i++) {
                    queued.add(pool.submit(i)); // both workers are busy: these wait in the pool
                }
                shutdown = pool.shutdown();
                drain(loop);
                assertFalse(shutdown.isDone(), "a worker exited while it still had work");
            }
            assertEquals(List.of(ExitStatus.ofExitCode(0), ExitStatus.ofExitCode(0)), shutdown.get(30, TimeUnit.SECONDS));
            assertEquals(0L, ((Number) queued.get(0).get()).longValue());
            assertEquals(0L, ((Number) queued.get(1).get()).longValue());
            for (int i = 1; i <= 20; i++) {
                assertEquals((long) i * i, ((Number) queued.get(i + 1).get()).longValue(), "task " + i);
            }
            assertTrue(pool.isIdle());
        }
    }

    @Test
    @Timeout(60)
    void submitAfterShutdownFailsAtOnceNamingTheState() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            LoopFuture<List<ExitStatus>> shutdown = pool.shutdown();
            LoopFuture<Object> late = pool.submit(3);
            assertTrue(late.isCompletedExceptionally(), "refused on the caller's thread");
            PoolShutdownException refused = (PoolShutdownException) assertThrows(ExecutionException.class, late::get).getCause();
            assertTrue(refused.getMessage().matches("submit refused: the pool is (SHUTTING_DOWN|TERMINATED): .*shutdown\\(\\).*"),
                    refused.getMessage());
            assertEquals(List.of(ExitStatus.ofExitCode(0)), shutdown.get(30, TimeUnit.SECONDS));
            assertEquals(shutdown.get(), pool.shutdown().get(30, TimeUnit.SECONDS), "a second shutdown() gets the first one's outcome");
            String afterwards = assertThrows(ExecutionException.class, () -> pool.submit(3).get()).getCause().getMessage();
            assertTrue(afterwards.contains("the pool is TERMINATED"), afterwards);
            assertTrue(pool.isIdle());
        }
    }

    @Test
    @Timeout(60)
    void submitAfterCloseFailsAtOnce() throws Exception {
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(SquareWorker.class)).workers(1).loop(loop).start();
            pool.close();
            LoopFuture<Object> late = pool.submit(3);
            assertTrue(late.isCompletedExceptionally(), "refused on the caller's thread");
            String message = assertThrows(ExecutionException.class, late::get).getCause().getMessage();
            assertTrue(message.contains("the pool is CLOSED"), message);
        }
    }
}
