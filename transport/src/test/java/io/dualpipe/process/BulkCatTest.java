package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.threadNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bulk bytes through {@code cat} the way W2 moves them: 64 KiB heap windows written from the loop
 * (FdChannel's pinned heap writes), backpressured by whenWritable, read back while writing. Every
 * byte is compared here; the benchmark (examples' BulkBench) only samples.
 */
class BulkCatTest {
    private static final int CHUNK = 64 * 1024;
    /** A prime period: a dropped, repeated or reordered chunk lands on different pattern bytes. */
    private static final int PERIOD = 1_048_573;
    private static final byte[] PATTERN = pattern();

    private static byte[] pattern() {
        byte[] p = new byte[PERIOD + CHUNK];
        new Random(7).nextBytes(p);
        System.arraycopy(p, 0, p, PERIOD, CHUNK);
        return p;
    }

    /** Writes {@code total} bytes of the pattern from the loop, never more than the high water mark plus a chunk queued. */
    private static final class Pump implements Runnable {
        final ByteSink in;
        final long total;
        final int highWater;
        long sent;
        long maxQueued;
        final CompletableFuture<Void> failed = new CompletableFuture<>();

        Pump(ByteSink in, long total, int highWater) {
            this.in = in;
            this.total = total;
            this.highWater = highWater;
        }

        @Override
        public void run() {
            while (sent < total) {
                if (!in.isWritable()) {
                    in.whenWritable().whenComplete((v, e) -> {
                        if (e != null) {
                            failed.complete(null);
                        } else {
                            run();
                        }
                    });
                    return;
                }
                int len = (int) Math.min(CHUNK, total - sent);
                int off = (int) (sent % PERIOD);
                in.write(ByteBuffer.wrap(PATTERN, off, len)).whenComplete((v, e) -> {
                    if (e != null) {
                        failed.complete(null);
                    }
                });
                sent += len;
                maxQueued = Math.max(maxQueued, in.queuedBytes());
                if (maxQueued > highWater + CHUNK) {
                    throw new AssertionError("queued " + maxQueued + " bytes, past the high water mark " + highWater);
                }
            }
            in.shutdownOutput();
        }
    }

    /** Compares every byte read with the pattern; completes at end of stream. */
    private static class Checker implements ByteSource.Listener {
        final AtomicLong received = new AtomicLong();
        final CompletableFuture<Long> ended = new CompletableFuture<>();
        final AtomicReference<String> mismatch = new AtomicReference<>();

        @Override
        public void onData(ByteBuffer data) {
            long r = received.get();
            int n = data.remaining();
            int p = data.position();
            for (int i = 0; i < n; i++) {
                if (data.get(p + i) != PATTERN[(int) ((r + i) % PERIOD)] && mismatch.get() == null) {
                    mismatch.set("byte " + (r + i) + " differs");
                }
            }
            received.set(r + n);
        }

        @Override
        public void onEnd() {
            ended.complete(received.get());
        }

        @Override
        public void onError(Throwable error) {
            ended.completeExceptionally(error);
        }
    }

    /** First spawns load native stubs and classes that may open descriptors of their own (as ChildProcessLeakTest does). */
    private static void warmUp() throws Exception {
        try (EventLoop warm = EventLoop.create("bulk-cat-warm-up")) {
            ChildProcess p = ChildProcess.builder("true").loop(warm).start();
            get(p.onExit());
            p.close();
        }
    }

    @Test
    @Timeout(120)
    void sixtyFourMebibytesThroughCatArriveWholeAndInOrder() throws Exception {
        long total = 64L << 20;
        warmUp();
        Set<String> threads = threadNames();
        Leaks.Baseline before = Leaks.baseline();
        try (EventLoop loop = EventLoop.create("bulk-cat")) {
            Leaks.Baseline withLoop = Leaks.baseline();
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            Checker checker = new Checker();
            cat.stdout().listen(checker);
            Pump pump = new Pump(cat.stdin(), total, 64 * 1024);
            loop.execute(pump);
            assertEquals(total, checker.ended.get(100, TimeUnit.SECONDS).longValue());
            assertNull(checker.mismatch.get());
            assertFalse(pump.failed.isDone(), "no write failed");
            assertTrue(get(cat.onExit()).isSuccess());
            cat.close();
            Leaks.awaitNoFdsBeyond(withLoop);
        }
        Leaks.awaitNoFdsBeyond(before);
        Leaks.assertNoZombies(before);
        ProcessTestSupport.await("no thread left beyond " + threads, () -> threads.containsAll(threadNames()));
    }

    @Test
    @Timeout(60)
    void closedMidTransferFailsTheWriterAndLeaksNothing() throws Exception {
        midTransfer(true);
    }

    @Test
    @Timeout(60)
    void killedMidTransferFailsTheWriterAndLeaksNothing() throws Exception {
        midTransfer(false);
    }

    /** 1 GiB is started; after 8 MiB came back, the child is closed (or SIGKILLed): writes stop failing fast, nothing hangs or leaks. */
    private static void midTransfer(boolean close) throws Exception {
        warmUp();
        Leaks.Baseline before = Leaks.baseline();
        try (EventLoop loop = EventLoop.create("bulk-cat-stop")) {
            Leaks.Baseline withLoop = Leaks.baseline();
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            CompletableFuture<Void> eightMiB = new CompletableFuture<>();
            Checker checker = new Checker() {
                @Override
                public void onData(ByteBuffer data) {
                    super.onData(data);
                    if (received.get() >= 8 << 20) {
                        eightMiB.complete(null);
                    }
                }
            };
            cat.stdout().listen(checker);
            Pump pump = new Pump(cat.stdin(), 1L << 30, 64 * 1024);
            loop.execute(pump);
            eightMiB.get(30, TimeUnit.SECONDS);
            if (close) {
                cat.close();
            } else {
                assertTrue(cat.signal(9));
            }
            ExitStatus st = get(cat.onExit());
            assertEquals(9, st.signal(), "killed: " + st);
            // The writer hears of it: a write or whenWritable fails (closed, or EPIPE for the killed child).
            pump.failed.get(10, TimeUnit.SECONDS);
            // stdout ends one way or the other, never hangs.
            checker.ended.handle((v, e) -> null).get(10, TimeUnit.SECONDS);
            assertNull(checker.mismatch.get());
            assertTrue(checker.received.get() < 1L << 30);
            cat.close();
            Throwable late = ProcessTestSupport.failure(cat.stdin().write(ByteBuffer.wrap(PATTERN, 0, CHUNK)));
            assertTrue(late instanceof DualPipeException, "a typed failure: " + late);
            Leaks.awaitNoFdsBeyond(withLoop);
        }
        Leaks.awaitNoFdsBeyond(before);
        Leaks.assertNoZombies(before);
    }
}
