package io.dualpipe.core.message;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.TestSupport;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Review 17: message channels write their 16 KiB chunks from the chunk's native address (commit
 * 4bfd4f4). A pipe shrunk to one page makes almost every chunk write stop mid-chunk (EAGAIN), so
 * the remainder goes through the queue and OP_WRITE, the chunk and spare swap constantly, and most
 * completions are asynchronous. A raw reader on its own thread checks every byte of every frame.
 */
class Review17ChunkWriteTest {
    private static final int F_SETPIPE_SZ = 1031;
    private static final int SENDERS = 3; // two threads and the loop

    enum SinkKind {
        /** The FdStream itself: the by-address path. */
        FD_STREAM,
        /** A sink that is not an FdStream, with ByteSink's default writeOrQueue (a duplicate, copied when queued). */
        WRAPPED_DEFAULT,
        /** A sink that is not an FdStream, handing our buffer itself to FdStream.writeOrQueue(ByteBuffer). */
        WRAPPED_ZERO_COPY
    }

    /** A ByteSink that is not an FdStream. */
    static class Forwarding implements ByteSink {
        final FdStream d;

        Forwarding(FdStream d) {
            this.d = d;
        }

        public EventLoop loop() {
            return d.loop();
        }

        public LoopFuture<Void> write(ByteBuffer data) {
            return d.write(data);
        }

        public LoopFuture<Void> write(byte[] data) {
            return d.write(data);
        }

        public LoopFuture<Void> write(String text) {
            return d.write(text);
        }

        public boolean isWritable() {
            return d.isWritable();
        }

        public long queuedBytes() {
            return d.queuedBytes();
        }

        public LoopFuture<Void> whenWritable() {
            return d.whenWritable();
        }

        public LoopFuture<Void> shutdownOutput() {
            return d.shutdownOutput();
        }

        public void close() {
            d.close();
        }
    }

    static final class ZeroCopy extends Forwarding {
        ZeroCopy(FdStream d) {
            super(d);
        }

        @Override
        public LoopFuture<Void> writeOrQueue(ByteBuffer data) {
            return d.writeOrQueue(data);
        }
    }

    /** The body of sender {@code s}'s message {@code seq}: who, which, then a pattern of both. */
    static byte[] body(int s, int seq, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (s * 31 + seq * 7 + i * 13 + (i >> 8));
        }
        if (size >= 8) {
            ByteBuffer.wrap(b).putInt(0, s).putInt(4, seq);
        }
        return b;
    }

    /** Sizes around the copy limit and the chunk size, small ones most. */
    static int size(Random r) {
        int k = r.nextInt(100);
        if (k < 55) {
            return 8 + r.nextInt(200);
        }
        if (k < 70) {
            return Math.max(8, 2048 - 4 + r.nextInt(9)); // 2044..2052: either side of COPY_LIMIT
        }
        if (k < 80) {
            return 8 + r.nextInt(2041);
        }
        if (k < 90) {
            return 16 * 1024 - 20 + r.nextInt(40); // about a chunk
        }
        return 2049 + r.nextInt(70_000);
    }

    /**
     * Reads the pipe on its own thread with uneven read sizes and checks every frame: header (type,
     * no flags, id 0, length) and body, each sender's sequence in order. Ends at end of stream.
     */
    static final class Reader extends Thread {
        final FdChannel in;
        final int[] nextSeq = new int[SENDERS];
        final AtomicLong bytes = new AtomicLong();
        final AtomicInteger frames = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final boolean allowTruncatedEnd;
        boolean endedMidFrame;
        private final Random random = new Random(17);

        Reader(FdChannel in, boolean allowTruncatedEnd) {
            super("review17-reader");
            setDaemon(true);
            this.in = in;
            this.allowTruncatedEnd = allowTruncatedEnd;
        }

        @Override
        public void run() {
            try {
                in.configureBlocking(true);
                ByteBuffer buf = ByteBuffer.allocate(1 << 18);
                while (true) {
                    int want = random.nextInt(4) == 0 ? 1 + random.nextInt(64) : 1 + random.nextInt(20_000);
                    want = Math.min(want, buf.remaining());
                    ByteBuffer slice = buf.slice(buf.position(), want);
                    int n = in.read(slice);
                    if (n < 0) {
                        endedMidFrame = buf.position() > 0;
                        if (endedMidFrame && !allowTruncatedEnd) {
                            throw new AssertionError("stream ended inside a frame: " + buf.position() + " bytes left");
                        }
                        return;
                    }
                    bytes.addAndGet(n);
                    buf.position(buf.position() + n);
                    buf.flip();
                    parse(buf);
                    buf.compact();
                }
            } catch (Throwable t) {
                error.compareAndSet(null, t);
            }
        }

        private void parse(ByteBuffer b) {
            while (b.remaining() >= 10) {
                int at = b.position();
                int type = b.get(at) & 0xff;
                int flags = b.get(at + 1) & 0xff;
                int id = b.getInt(at + 2);
                int len = b.getInt(at + 6);
                if (type != Codecs.BYTES || flags != 0 || id != 0 || len < 8 || len > 200_000) {
                    throw new AssertionError("bad header after " + frames.get() + " frames: type " + type
                            + " flags " + flags + " id " + id + " length " + len);
                }
                if (b.remaining() < 10 + len) {
                    if (b.capacity() < 10 + len) {
                        throw new AssertionError("frame larger than the reader's buffer: " + len);
                    }
                    return;
                }
                int s = b.getInt(at + 10);
                int seq = b.getInt(at + 14);
                if (s < 0 || s >= SENDERS || seq != nextSeq[s]) {
                    throw new AssertionError("frame " + frames.get() + ": sender " + s + " seq " + seq + ", expected "
                            + (s >= 0 && s < SENDERS ? nextSeq[s] : -1));
                }
                for (int i = 8; i < len; i++) {
                    byte want = (byte) (s * 31 + seq * 7 + i * 13 + (i >> 8));
                    if (b.get(at + 10 + i) != want) {
                        throw new AssertionError("frame " + frames.get() + " (sender " + s + " seq " + seq + ", "
                                + len + " bytes): byte " + i + " is " + b.get(at + 10 + i) + ", expected " + want);
                    }
                }
                nextSeq[s]++;
                frames.incrementAndGet();
                b.position(at + 10 + len);
            }
        }
    }

    private static void shrink(FdChannel pipeEnd) {
        // One page: a 16 KiB chunk never fits at once, so its rest is queued for OP_WRITE.
        Native.LIBC.fcntl(pipeEnd.getFD(), F_SETPIPE_SZ, 4096);
    }

    private static ByteSink sinkOf(SinkKind kind, FdStream s) {
        return switch (kind) {
            case FD_STREAM -> s;
            case WRAPPED_DEFAULT -> new Forwarding(s);
            case WRAPPED_ZERO_COPY -> new ZeroCopy(s);
        };
    }

    /** Sends {@code count} messages as sender {@code s}, pacing on the channel's writability. */
    private static void sendFromThread(MessageChannel ch, int s, int count, List<LoopFuture<Void>> futures,
                                       AtomicBoolean stopOnFailure) throws Exception {
        Random r = new Random(1000 + s);
        for (int seq = 0; seq < count; seq++) {
            if (stopOnFailure != null && stopOnFailure.get()) {
                return;
            }
            futures.add(ch.send(Codecs.BYTES, body(s, seq, size(r))));
            if (!ch.isWritable() && r.nextInt(3) != 0) {
                try {
                    ch.whenWritable().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (stopOnFailure != null) {
                        return;
                    }
                    throw e;
                }
            }
        }
    }

    /** Sender 2 sends from the loop thread, a burst per pass, resuming on writability. */
    private static void sendFromLoop(MessageChannel ch, int count, List<LoopFuture<Void>> futures,
                                     CompletableFuture<Void> done) {
        Random r = new Random(2000);
        int[] seq = {0};
        Runnable[] burst = new Runnable[1];
        burst[0] = () -> {
            try {
                int n = 1 + r.nextInt(40);
                while (n-- > 0 && seq[0] < count) {
                    futures.add(ch.send(Codecs.BYTES, body(2, seq[0], size(r))));
                    seq[0]++;
                }
                if (seq[0] == count) {
                    done.complete(null);
                } else if (ch.isWritable() || r.nextBoolean()) {
                    ch.loop().execute(burst[0]);
                } else {
                    ch.whenWritable().whenComplete((v, e) -> {
                        if (e != null) {
                            done.complete(null);
                        } else {
                            ch.loop().execute(burst[0]);
                        }
                    });
                }
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        };
        ch.loop().execute(burst[0]);
    }

    @ParameterizedTest
    @EnumSource(SinkKind.class)
    @Timeout(120)
    void framesArriveByteIdenticalAndInOrderThroughPartialChunkWrites(SinkKind kind) throws Exception {
        SortedMap<Integer, String> before = pipesAndPolls();
        EventLoop loop = EventLoop.create("review17-chunks");
        try {
            FdChannel[] out = FdChannel.pipe();
            FdChannel[] idle = FdChannel.pipe();
            shrink(out[1]);
            FdStream sinkStream = FdStream.sink(loop, out[1], "r17.out", 64 * 1024, 32 * 1024);
            FdStream source = FdStream.source(loop, idle[0], "r17.in", 64 * 1024);
            MessageChannel ch = MessageChannel.builder(Pipes.codecs()).name("r17").open(source, sinkOf(kind, sinkStream));
            Reader reader = new Reader(out[0], false);
            reader.start();
            int count = 4000;
            List<LoopFuture<Void>> futures = new ConcurrentLinkedQueueList<>();
            CompletableFuture<Void> loopDone = new CompletableFuture<>();
            List<Thread> threads = new ArrayList<>();
            AtomicReference<Throwable> senderError = new AtomicReference<>();
            for (int s = 0; s < 2; s++) {
                int id = s;
                Thread t = new Thread(() -> {
                    try {
                        sendFromThread(ch, id, count, futures, null);
                    } catch (Throwable e) {
                        senderError.compareAndSet(null, e);
                    }
                }, "review17-sender-" + s);
                threads.add(t);
                t.start();
            }
            sendFromLoop(ch, count, futures, loopDone);
            for (Thread t : threads) {
                t.join(60_000);
                assertTrue(!t.isAlive(), t.getName() + " still sending after 60 s");
            }
            assertNull(senderError.get());
            loopDone.get(60, TimeUnit.SECONDS);
            for (LoopFuture<Void> f : futures) {
                f.get(60, TimeUnit.SECONDS); // every send completes, and without error
            }
            ch.closeGracefully().get(60, TimeUnit.SECONDS);
            idle[1].close();
            reader.join(60_000);
            assertTrue(!reader.isAlive(), "reader never saw the end of stream");
            if (reader.error.get() != null) {
                throw new AssertionError(kind + ": " + reader.error.get().getMessage(), reader.error.get());
            }
            assertEquals(3 * count, reader.frames.get(), kind + ": frames read");
            for (int s = 0; s < SENDERS; s++) {
                assertEquals(count, reader.nextSeq[s], kind + ": sender " + s);
            }
            out[0].close();
        } finally {
            loop.close();
        }
        assertEquals(before, pipesAndPolls(), "fds of ours left open");
    }

    /**
     * The sink's FdStream closed from another thread while chunks are half written and queued, then
     * the freed fd numbers taken by new pipes: every send completes, failed ones with a typed error;
     * what the reader got is whole frames in order (the last may be cut); nothing reaches the new
     * pipes; no fd is left.
     */
    @ParameterizedTest
    @EnumSource(value = SinkKind.class, names = {"FD_STREAM", "WRAPPED_ZERO_COPY"})
    @Timeout(120)
    void sinkClosedFromAnotherThreadMidChunkFailsTypedAndWritesNowhereElse(SinkKind kind) throws Exception {
        SortedMap<Integer, String> before = pipesAndPolls();
        for (int round = 0; round < 8; round++) {
            EventLoop loop = EventLoop.create("review17-close");
            List<FdChannel> squatters = new ArrayList<>();
            try {
                FdChannel[] out = FdChannel.pipe();
                FdChannel[] idle = FdChannel.pipe();
                shrink(out[1]);
                int oldFd = out[1].getFD();
                FdStream sinkStream = FdStream.sink(loop, out[1], "r17.out", 64 * 1024, 32 * 1024);
                FdStream source = FdStream.source(loop, idle[0], "r17.in", 64 * 1024);
                MessageChannel ch = MessageChannel.builder(Pipes.codecs()).name("r17").open(source, sinkOf(kind, sinkStream));
                Reader reader = new Reader(out[0], true);
                reader.start();
                List<LoopFuture<Void>> futures = new ConcurrentLinkedQueueList<>();
                AtomicBoolean stop = new AtomicBoolean();
                CompletableFuture<Void> loopDone = new CompletableFuture<>();
                List<Thread> threads = new ArrayList<>();
                for (int s = 0; s < 2; s++) {
                    int id = s;
                    Thread t = new Thread(() -> {
                        try {
                            sendFromThread(ch, id, 100_000, futures, stop);
                        } catch (Throwable e) {
                            // a send refused after the close: checked through the futures
                        }
                    }, "review17-sender-" + s);
                    threads.add(t);
                    t.start();
                }
                sendFromLoop(ch, 100_000, futures, loopDone);
                long target = 200_000 + round * 150_000L;
                TestSupport.await("the reader got " + target + " bytes", Duration.ofSeconds(30),
                        () -> reader.bytes.get() >= target || reader.error.get() != null);
                CountDownLatch closed = new CountDownLatch(1);
                Thread closer = new Thread(() -> {
                    sinkStream.close();
                    closed.countDown();
                }, "review17-closer");
                closer.start();
                assertTrue(closed.await(20, TimeUnit.SECONDS));
                // Take the freed numbers: a late write through the old number would land here.
                TestSupport.await("fd " + oldFd + " released", Duration.ofSeconds(20), () -> !TestSupport.isOpen(oldFd));
                for (int i = 0; i < 4; i++) {
                    FdChannel[] p = FdChannel.pipe();
                    squatters.add(p[0]);
                    squatters.add(p[1]);
                }
                stop.set(true);
                for (Thread t : threads) {
                    t.join(30_000);
                    assertTrue(!t.isAlive(), t.getName() + " still sending");
                }
                ch.closeFuture().handle((v, e) -> null).get(30, TimeUnit.SECONDS);
                for (LoopFuture<Void> f : futures) {
                    try {
                        f.get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof DualPipeException)) {
                            throw new AssertionError("untyped failure: " + e.getCause(), e.getCause());
                        }
                    }
                }
                // Let every completion the loop still has queued run before looking at the new pipes.
                for (int i = 0; i < 3; i++) {
                    CompletableFuture<Void> f = new CompletableFuture<>();
                    loop.execute(() -> f.complete(null));
                    f.get(20, TimeUnit.SECONDS);
                }
                idle[1].close();
                reader.join(30_000);
                assertTrue(!reader.isAlive(), "reader never saw the end of stream");
                if (reader.error.get() != null) {
                    throw new AssertionError(kind + " round " + round + ": " + reader.error.get().getMessage(), reader.error.get());
                }
                ByteBuffer probe = ByteBuffer.allocate(64);
                for (int i = 0; i < squatters.size(); i += 2) {
                    probe.clear();
                    assertEquals(0, squatters.get(i).read(probe), "bytes reached a pipe opened after the close (fd "
                            + squatters.get(i + 1).getFD() + ", old sink fd " + oldFd + ")");
                }
                out[0].close();
            } finally {
                for (FdChannel c : squatters) {
                    c.close();
                }
                loop.close();
            }
        }
        assertEquals(before, pipesAndPolls(), "fds of ours left open");
    }

    /** The channel closed from another thread mid-flood, many times: typed failures, no fd, no thread left. */
    @Test
    @Timeout(120)
    void channelClosedFromAnotherThreadMidFloodLeavesNothing() throws Exception {
        SortedMap<Integer, String> before = pipesAndPolls();
        for (int round = 0; round < 20; round++) {
            EventLoop loop = EventLoop.create("review17-chclose");
            try {
                FdChannel[] out = FdChannel.pipe();
                FdChannel[] idle = FdChannel.pipe();
                shrink(out[1]);
                FdStream sinkStream = FdStream.sink(loop, out[1], "r17.out", 64 * 1024, 32 * 1024);
                FdStream source = FdStream.source(loop, idle[0], "r17.in", 64 * 1024);
                MessageChannel ch = MessageChannel.builder(Pipes.codecs()).name("r17").open(source, sinkStream);
                Reader reader = new Reader(out[0], true);
                reader.start();
                List<LoopFuture<Void>> futures = new ConcurrentLinkedQueueList<>();
                AtomicBoolean stop = new AtomicBoolean();
                Thread t = new Thread(() -> {
                    try {
                        sendFromThread(ch, 0, 100_000, futures, stop);
                    } catch (Throwable e) {
                        // refused after the close
                    }
                }, "review17-sender");
                t.start();
                long target = 50_000 + round * 20_000L;
                TestSupport.await("reader progress", Duration.ofSeconds(30),
                        () -> reader.bytes.get() >= target || reader.error.get() != null);
                Thread closer = new Thread(ch::close, "review17-closer");
                closer.start();
                closer.join(20_000);
                stop.set(true);
                t.join(30_000);
                assertTrue(!t.isAlive());
                ch.closeFuture().get(30, TimeUnit.SECONDS);
                int failed = 0;
                for (LoopFuture<Void> f : futures) {
                    try {
                        f.get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        failed++;
                        if (!(e.getCause() instanceof DualPipeException)) {
                            fail("untyped failure: " + e.getCause());
                        }
                    }
                }
                idle[1].close();
                reader.join(30_000);
                assertTrue(!reader.isAlive());
                if (reader.error.get() != null) {
                    throw new AssertionError("round " + round + ": " + reader.error.get().getMessage(), reader.error.get());
                }
                assertTrue(failed >= 0);
                out[0].close();
            } finally {
                loop.close();
            }
        }
        assertEquals(before, pipesAndPolls(), "fds of ours left open");
    }

    /**
     * The loop closed from another thread mid-flood: queued chunk writes complete through the
     * shutdown (LoopClosedException), every future completes typed, no fd or loop thread is left.
     */
    @Test
    @Timeout(120)
    void loopClosedMidFloodFailsEverySendTypedAndLeavesNothing() throws Exception {
        SortedMap<Integer, String> before = pipesAndPolls();
        for (int round = 0; round < 15; round++) {
            String name = "review17-loopclose-" + round;
            EventLoop loop = EventLoop.create(name);
            FdChannel[] out = FdChannel.pipe();
            FdChannel[] idle = FdChannel.pipe();
            shrink(out[1]);
            FdStream sinkStream = FdStream.sink(loop, out[1], "r17.out", 64 * 1024, 32 * 1024);
            FdStream source = FdStream.source(loop, idle[0], "r17.in", 64 * 1024);
            MessageChannel ch = MessageChannel.builder(Pipes.codecs()).name("r17").open(source, sinkStream);
            Reader reader = new Reader(out[0], true);
            reader.start();
            List<LoopFuture<Void>> futures = new ConcurrentLinkedQueueList<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread t = new Thread(() -> {
                try {
                    sendFromThread(ch, 0, 100_000, futures, stop);
                } catch (Throwable e) {
                    // refused after the close
                }
            }, "review17-sender");
            t.start();
            CompletableFuture<Void> loopDone = new CompletableFuture<>();
            sendFromLoop(ch, 100_000, futures, loopDone);
            long target = 30_000 + round * 20_000L;
            TestSupport.await("reader progress", Duration.ofSeconds(30),
                    () -> reader.bytes.get() >= target || reader.error.get() != null);
            loop.close();
            stop.set(true);
            t.join(30_000);
            assertTrue(!t.isAlive());
            for (LoopFuture<Void> f : futures) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof DualPipeException)) {
                        fail("untyped failure: " + e.getCause());
                    }
                }
            }
            ch.closeFuture().handle((v, e) -> null).get(30, TimeUnit.SECONDS);
            idle[1].close();
            reader.join(30_000);
            assertTrue(!reader.isAlive());
            if (reader.error.get() != null) {
                throw new AssertionError("round " + round + ": " + reader.error.get().getMessage(), reader.error.get());
            }
            out[0].close();
            assertTrue(!TestSupport.threadAlive(name), "loop thread still alive");
        }
        assertEquals(before, pipesAndPolls(), "fds of ours left open");
    }

    /**
     * {@link TestSupport#fdSnapshot()} less sockets: these tests make only pipes, epoll fds and
     * eventfds, and the test JVM opened a socket of its own during the first test of a fork.
     */
    static SortedMap<Integer, String> pipesAndPolls() {
        SortedMap<Integer, String> m = TestSupport.fdSnapshot();
        m.values().removeIf(t -> t.startsWith("socket:"));
        return m;
    }

    /** A list that senders on several threads add to. */
    static final class ConcurrentLinkedQueueList<T> extends java.util.AbstractList<T> {
        private final ConcurrentLinkedQueue<T> q = new ConcurrentLinkedQueue<>();

        @Override
        public boolean add(T t) {
            return q.add(t);
        }

        @Override
        public java.util.Iterator<T> iterator() {
            return q.iterator();
        }

        @Override
        public T get(int index) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int size() {
            return q.size();
        }
    }
}
