package io.dualpipe.core.message;

import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.internal.CFunction;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 22, adversarial: 91fc928, the read side's stall watch started at a half-close while frames
 * are held. A peer that half-closes and then reads slowly, taking a little every well under the
 * stall timeout but needing many stall timeouts in all, makes progress: it must not be cut off. And
 * once the channel has closed, no stall timer of it may be left on the loop.
 */
class Review22HalfCloseTest {
    private static final Duration STALL = Duration.ofMillis(300);
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000; // Linux
    private static final int SHUT_WR = 1;
    private EventLoop loop;

    @BeforeEach
    void start() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "Linux only: SOCK_CLOEXEC's value");
        loop = EventLoop.create("review22-half-close");
    }

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.close();
        }
    }

    private static int[] socketPair() {
        CFunction socketpair = CFunction.bind(Library.getDefault(), "socketpair", true,
                Type.SINT32, Type.SINT32, Type.SINT32, Type.SINT32, Type.POINTER);
        MemoryIO memory = MemoryIO.getInstance();
        long sv = memory.allocateMemory(8, true);
        try {
            if ((int) socketpair.call(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                throw Native.lastError("socketpair");
            }
            return new int[] {memory.getInt(sv), memory.getInt(sv + 4)};
        } finally {
            memory.freeMemory(sv);
        }
    }

    private static void shutdownOutput(int fd) {
        CFunction shutdown = CFunction.bind(Library.getDefault(), "shutdown", true, Type.SINT32, Type.SINT32, Type.SINT32);
        if ((int) shutdown.call(fd, SHUT_WR) < 0) {
            throw Native.lastError("shutdown");
        }
    }

    private int pendingTimers() throws Exception {
        CompletableFuture<Integer> n = new CompletableFuture<>();
        loop.execute(() -> n.complete(((SingleThreadEventLoop) loop).pendingTimers()));
        return n.get(10, TimeUnit.SECONDS);
    }

    /** Writes all of {@code b} to the non-blocking {@code peer}, pacing itself while the socket is full. */
    private static void writeAll(FdChannel peer, ByteBuffer b) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (b.hasRemaining()) {
            if (peer.write(b) == 0) {
                assertTrue(System.nanoTime() < deadline, "the peer could not write its frame");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
    }

    /** Our channel over one end of a socket pair, backed up by 1 MiB; the peer's end raw, driven by the test thread. */
    private final class Pair implements AutoCloseable {
        final int peerFd;
        final FdChannel peer;
        final MessageChannel ch;
        final LoopFuture<Void> big;

        Pair() {
            int[] fds = socketPair();
            int both = SelectionKey.OP_READ | SelectionKey.OP_WRITE;
            FdStream ours = FdStream.duplex(loop, new FdChannel(fds[0], both), "ch", 64 * 1024, 64 * 1024, 32 * 1024);
            peerFd = fds[1];
            peer = new FdChannel(fds[1], both); // not on the loop
            ch = MessageChannel.builder(Pipes.codecs()).stallTimeout(STALL)
                    .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b))
                    .name("ch").open(ours, ours);
            big = ch.send(Codecs.BYTES, new byte[1024 * 1024]);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (ch.isWritable()) {
                assertTrue(System.nanoTime() < deadline, "the channel never backed up");
                Thread.onSpinWait();
            }
        }

        /** The peer sends a request (held: our output is backed up) and half-closes. */
        void requestAndHalfClose() throws Exception {
            ByteBuffer req = ByteBuffer.allocate(Frames.HEADER_SIZE + 1);
            req.put((byte) Codecs.BYTES).put((byte) Frames.FLAG_REQUEST).putInt(77).putInt(1).put((byte) 42).flip();
            writeAll(peer, req);
            shutdownOutput(peerFd);
        }

        /**
         * Reads up to {@code chunk} bytes every {@code paceMs} ms (the peer's pace, not a
         * synchronisation) to our end of stream; then checks the channel closed in order.
         */
        byte[] readSlowly(int chunk, int paceMs) throws Exception {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocateDirect(chunk);
            long started = System.nanoTime();
            long end = started + TimeUnit.SECONDS.toNanos(40);
            while (true) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(paceMs));
                buf.clear();
                int n = peer.read(buf);
                if (n < 0) {
                    break; // our end of stream: the channel closed its side
                }
                buf.flip();
                byte[] b = new byte[buf.remaining()];
                buf.get(b);
                got.write(b);
                assertTrue(System.nanoTime() < end, "no end of stream within 40 s; read " + got.size());
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            Throwable why = ch.closeFuture().handle((v, e) -> e).get(10, TimeUnit.SECONDS);
            assertTrue(why == null, "the channel closed with " + why + " after " + tookMs + " ms of reading "
                    + chunk + " bytes every " + paceMs + " ms (" + got.size() + " bytes read)");
            big.get(10, TimeUnit.SECONDS);
            return got.toByteArray();
        }

        @Override
        public void close() throws Exception {
            peer.close();
        }
    }

    /** Our message and the reply to request 77, whole: what the peer must have read. */
    private static void assertMessageAndReply(byte[] all) {
        ByteBuffer in = ByteBuffer.wrap(all);
        int frames = 0;
        boolean replied = false;
        while (in.remaining() >= Frames.HEADER_SIZE) {
            in.get();
            int flags = in.get();
            int id = in.getInt();
            int length = in.getInt();
            byte[] body = new byte[length];
            in.get(body);
            frames++;
            if ((flags & Frames.FLAG_REPLY) != 0 && id == 77) {
                replied = body.length == 1 && body[0] == 42;
            }
        }
        assertEquals(0, in.remaining(), "a partial frame at the end");
        assertEquals(2, frames, "our message and the reply");
        assertTrue(replied, "the held request was answered");
    }

    /**
     * Control: the peer half-closes with a request held, then reads 64 KiB every 20 ms (about 1 MiB a
     * stall timeout, more than the socket holds). It gets our message and the reply; an orderly close.
     */
    @Test
    @Timeout(60)
    void aPeerThatHalfClosesThenReadsAtAModestPaceIsNotCutOff() throws Exception {
        try (Pair p = new Pair()) {
            p.requestAndHalfClose();
            assertMessageAndReply(p.readSlowly(64 * 1024, 20));
            assertEquals(0, pendingTimers(), "a timer of the closed channel is left on the loop");
        }
    }

    /**
     * The peer half-closes with a request held, then reads steadily, 8 KiB every 50 ms: 48 KiB every
     * stall timeout, every read returning bytes. The watch counts only bytes the kernel took from our
     * queue (Outbound.takenBytes), and the kernel takes none until the peer has drained most of the
     * socket's buffer (a Unix socket is writable again at 1/4 full; ~200 KiB here): so a peer that
     * reads less than that per stall timeout is closed as stalled while it reads. Observed:
     * PeerStalledException "the peer ended its stream, then took none of our 1048576 queued bytes for
     * PT0.3S" after ~400 ms of reading. At the default 10 s, and with TCP's auto-tuned send buffers
     * (MiBs), a peer reading a few hundred KiB/s can be cut off the same way.
     */
    @Test
    @Timeout(60)
    @org.junit.jupiter.api.Disabled("KNOWN LIMIT, documented in MessageChannelBuilder.stallTimeout; counting the socket's unsent bytes (SIOCOUTQ) would lift it. DEFECT: the half-close stall watch (91fc928) cuts off a peer that half-closed and reads steadily"
            + " but less than a socket buffer per stall timeout: progress is measured by our queue, not by what the peer reads")
    void DEFECT_aPeerThatHalfClosesThenReadsSteadilyIsCutOffAsStalled() throws Exception {
        try (Pair p = new Pair()) {
            p.requestAndHalfClose();
            assertMessageAndReply(p.readSlowly(8 * 1024, 50));
        }
    }

    /**
     * The same measure in a graceful close's watch (DrainWatch, older than 91fc928): the peer reads
     * steadily, 8 KiB every 50 ms, and the close gives up on it as stalled.
     */
    @Test
    @Timeout(60)
    @org.junit.jupiter.api.Disabled("KNOWN LIMIT, documented in MessageChannelBuilder.stallTimeout; counting the socket's unsent bytes (SIOCOUTQ) would lift it. DEFECT: a graceful close's drain watch cuts off a peer that reads steadily but less than a"
            + " socket buffer per stall timeout: progress is measured by our queue, not by what the peer reads")
    void DEFECT_aGracefulCloseCutsOffAPeerThatReadsSteadily() throws Exception {
        try (Pair p = new Pair()) {
            p.ch.closeGracefully();
            byte[] all = p.readSlowly(8 * 1024, 50);
            assertTrue(all.length > 1024 * 1024, "read " + all.length);
        }
    }

    /**
     * The stall case of 91fc928 again, but watching the loop: once the stalled channel has closed,
     * none of its timers (the read side's watch, a graceful close's) stays on the loop.
     */
    @Test
    @Timeout(60)
    void aStalledHalfClosedChannelLeavesNoTimer() throws Exception {
        try (Pair p = new Pair()) {
            p.requestAndHalfClose();
            p.ch.closeFuture().handle((v, e) -> (Void) null).get(10, TimeUnit.SECONDS);
            assertTrue(p.big.isDone());
            assertEquals(0, pendingTimers(), "a timer of the closed channel is left on the loop");
        }
    }
}
