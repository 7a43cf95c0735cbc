package io.dualpipe.core;

import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FdStreamTest {
    @Test
    @Timeout(30)
    void bulkThroughPipeWithPullReads() throws Exception {
        try (EventLoop loop = EventLoop.create("fdstream")) {
            FdStream in = bulkThroughPipe(loop, 1);
            in.endOfStream().get(5, TimeUnit.SECONDS);
            assertEquals(0, in.read(10).get(5, TimeUnit.SECONDS).length);
        }
    }

    /**
     * Writes 8 MiB + 17 random bytes (from {@code seed}) through a pipe on {@code loop}, reads them
     * back with pull reads while they are written, and checks every byte; returns the read end.
     */
    static FdStream bulkThroughPipe(EventLoop loop, long seed) throws Exception {
        FdChannel[] p = FdChannel.pipe();
        FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
        FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
        byte[] data = new byte[8 * 1024 * 1024 + 17];
        new Random(seed).nextBytes(data);
        LoopFuture<Void> w = out.write(data);
        out.shutdownOutput();
        byte[] got = readToEnd(in);
        w.get(5, TimeUnit.SECONDS);
        assertArrayEquals(data, got);
        return in;
    }

    /** Pull reads of up to 100,000 bytes until the end of stream; each read bounded. */
    private static byte[] readToEnd(FdStream in) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (true) {
            byte[] chunk = in.read(100_000).get(10, TimeUnit.SECONDS);
            if (chunk.length == 0) {
                return got.toByteArray();
            }
            got.write(chunk);
        }
    }

    /**
     * writeOrQueue(byte[]) writes straight from the array while the kernel takes it, queues the rest
     * behind it (and behind earlier buffers) when it does not, and keeps every byte in order.
     */
    @Test
    @Timeout(30)
    void arraysAreWrittenOrQueuedInOrder() throws Exception {
        try (EventLoop loop = EventLoop.create("fdstream")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            in.pause();
            assertEquals(null, out.writeOrQueue(new byte[] {'a', 'b'}), "taken at once: no future");
            Random r = new Random(3);
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            sent.write(new byte[] {'a', 'b'});
            LoopFuture<Void> last = null;
            for (int i = 0; i < 200; i++) { // ~1.6 MB: far more than the pipe holds, so most is queued
                byte[] a = new byte[1 + r.nextInt(16_000)];
                r.nextBytes(a);
                sent.write(a);
                LoopFuture<Void> f = i % 3 == 0 ? out.writeOrQueue(ByteBuffer.wrap(a)) : out.writeOrQueue(a);
                last = f != null ? f : last;
            }
            assertTrue(last != null && !last.isDone(), "the pipe filled up and writes were queued");
            out.shutdownOutput();
            in.resume();
            byte[] got = readToEnd(in);
            last.get(5, TimeUnit.SECONDS);
            assertArrayEquals(sent.toByteArray(), got);
        }
    }

    /** The end came before anyone listened: a listener set afterwards still hears it (and a failure as one). */
    @Test
    @Timeout(30)
    void aListenerSetAfterTheEndHearsIt() throws Exception {
        try (EventLoop loop = EventLoop.create("fdstream")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 16 * 1024);
            p[1].close();
            in.endOfStream().get(5, TimeUnit.SECONDS);
            CompletableFuture<String> heard = new CompletableFuture<>();
            in.listen(new ByteSource.Listener() {
                public void onData(ByteBuffer data) {
                    heard.complete("data");
                }

                public void onEnd() {
                    heard.complete("end");
                }

                public void onError(Throwable error) {
                    heard.complete("error " + error);
                }
            });
            assertEquals("end", heard.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(30)
    void listenerPauseStopsReading() throws Exception {
        try (EventLoop loop = EventLoop.create("fdstream")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 16 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            in.pause();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            CompletableFuture<Void> end = new CompletableFuture<>();
            in.listen(new ByteSource.Listener() {
                public void onData(ByteBuffer data) {
                    byte[] b = new byte[data.remaining()];
                    data.get(b);
                    got.write(b, 0, b.length);
                }
                public void onEnd() {
                    end.complete(null);
                }
            });
            byte[] data = new byte[1024 * 1024];
            new Random(2).nextBytes(data);
            LoopFuture<Void> w = out.write(data);
            // paused: the pipe (64 KiB) and our 16 KiB buffer fill up, and the writer is held back
            assertFalse(out.isWritable());
            assertFalse(w.isDone());
            CompletableFuture<Integer> seen = new CompletableFuture<>();
            loop.execute(() -> seen.complete(got.size()));
            assertEquals(0, seen.get(5, TimeUnit.SECONDS));
            in.resume();
            w.get(10, TimeUnit.SECONDS);
            out.shutdownOutput().get(5, TimeUnit.SECONDS);
            end.get(10, TimeUnit.SECONDS);
            assertArrayEquals(data, got.toByteArray());
        }
    }

    @Test
    @Timeout(10)
    void writeToClosedReaderFailsWithBrokenPipe() throws Exception {
        try (EventLoop loop = EventLoop.create("fdstream")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            p[0].close();
            LoopFuture<Void> w = out.write(new byte[10]);
            Throwable t = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> w.get(5, TimeUnit.SECONDS)).getCause();
            assertTrue(t instanceof BrokenPipeException, t.toString());
            assertTrue(t.getMessage().contains("EPIPE"), t.getMessage());
        }
    }
}
