package io.dualpipe.core;

import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ByteSource#readAll(int)} over real pipes. */
class ReadAllTest {
    private static final long STEP = 10;

    /** A pipe: the source under test and the sink that feeds it, on one loop. */
    private record Pipe(FdStream in, FdStream out) {
        static Pipe open(EventLoop loop) {
            FdChannel[] p = FdChannel.pipe();
            return new Pipe(FdStream.source(loop, p[0], "in", 64 * 1024),
                    FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024));
        }
    }

    @Test
    @Timeout(30)
    void fiveMebibytesExactly() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            byte[] data = new byte[5 * 1024 * 1024 + 3];
            new Random(5).nextBytes(data);
            LoopFuture<byte[]> all = p.in.readAll(8 * 1024 * 1024);
            p.out.write(data);
            p.out.shutdownOutput();
            assertArrayEquals(data, all.get(STEP, TimeUnit.SECONDS));
            assertTrue(p.in.endOfStream().isDone());
            assertEquals(0, p.in.readAll(1).get(STEP, TimeUnit.SECONDS).length, "after the end: empty, every time");
        }
    }

    @Test
    @Timeout(30)
    void emptyStream() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            p.out.shutdownOutput();
            assertEquals(0, p.in.readAll(1).get(STEP, TimeUnit.SECONDS).length);
        }
    }

    @Test
    @Timeout(30)
    void exactlyTheLimitIsAllowed() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            p.out.write("0123456789");
            p.out.shutdownOutput();
            assertEquals("0123456789", new String(p.in.readAll(10).get(STEP, TimeUnit.SECONDS), java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    @Test
    @Timeout(30)
    void oneByteOverTheLimitFailsAndLeavesTheRestInTheSource() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            p.out.write("0123456789");
            p.out.shutdownOutput();
            ReadLimitExceededException e = failure(p.in.readAll(9), ReadLimitExceededException.class);
            assertEquals(9, e.limit());
            assertEquals("in: more than maxBytes 9 bytes before the end of the stream; stopped reading", e.getMessage());
        }
    }

    @Test
    @Timeout(30)
    void aLongStreamIsNotBufferedPastTheLimit() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            int total = 4 * 1024 * 1024;
            int limit = 100_000;
            LoopFuture<Void> written = p.out.write(new byte[total]);
            p.out.shutdownOutput();
            failure(p.in.readAll(limit), ReadLimitExceededException.class);
            // Reading stopped: the writer is held back by the full pipe and the source's bounded buffer.
            assertFalse(written.isDone());
            assertTrue(onLoop(loop, p.in::bufferedBytes) <= 64 * 1024);
            // Nothing past limit + 1 was taken: the rest is still there for whoever reads on.
            long rest = 0;
            for (byte[] b; (b = p.in.read(64 * 1024).get(STEP, TimeUnit.SECONDS)).length > 0; ) {
                rest += b.length;
            }
            assertTrue(rest >= total - (limit + 1L), "left " + rest + " of " + total);
            written.get(STEP, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(30)
    void aListenerIsAConsumerConflict() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            p.in.listen(data -> data.position(data.limit()));
            failure(p.in.readAll(100), ConsumerConflictException.class);
        }
    }

    @Test
    @Timeout(30)
    void aListenerSetWhileReadingFailsIt() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            LoopFuture<byte[]> all = p.in.readAll(100);
            p.out.write("part").get(STEP, TimeUnit.SECONDS);
            p.in.listen(new ByteSource.Listener() {
                @Override
                public void onData(ByteBuffer data) {
                    data.position(data.limit());
                }
            });
            failure(all, ConsumerConflictException.class);
        }
    }

    @Test
    @Timeout(30)
    void closingTheSourceFailsIt() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            LoopFuture<byte[]> all = p.in.readAll(100);
            p.out.write("part").get(STEP, TimeUnit.SECONDS);
            p.in.close();
            failure(all, ChannelClosedException.class);
            p.out.close();
        }
    }

    @Test
    @Timeout(30)
    void cancellingStopsReading() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            LoopFuture<byte[]> all = p.in.readAll(1000);
            assertTrue(all.cancel(false));
            int total = 1024 * 1024;
            p.out.write(new byte[total]);
            p.out.shutdownOutput();
            // Only the read in flight (at most 1001 bytes) takes anything; no read follows it.
            long rest = 0;
            for (byte[] b; (b = p.in.read(64 * 1024).get(STEP, TimeUnit.SECONDS)).length > 0; ) {
                rest += b.length;
            }
            assertTrue(rest >= total - 1001, "left " + rest + " of " + total);
        }
    }

    @Test
    @Timeout(30)
    void rejectsBadLimits() throws Exception {
        try (EventLoop loop = EventLoop.create("readall")) {
            Pipe p = Pipe.open(loop);
            assertEquals("maxBytes <= 0: -3",
                    assertThrows(InvalidArgumentException.class, () -> p.in.readAll(-3)).getMessage());
            assertEquals("maxBytes <= 0: 0",
                    assertThrows(InvalidArgumentException.class, () -> p.in.readAll(0)).getMessage());
            p.in.close();
            p.out.close();
        }
    }

    private static <X extends Throwable> X failure(LoopFuture<?> f, Class<X> type) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(STEP, TimeUnit.SECONDS));
        return assertInstanceOf(type, e.getCause());
    }

    private static <T> T onLoop(EventLoop loop, java.util.function.Supplier<T> s) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(s.get()));
        return f.get(STEP, TimeUnit.SECONDS);
    }
}
