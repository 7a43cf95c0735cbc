package io.dualpipe.core.message;

import io.dualpipe.core.BlockingOnLoopException;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bound on what a peer can make a channel hold, its stall watch, and the close future's copies. */
class MessageChannelBacklogTest {
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("backlog-test");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private static Throwable failure(Future<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
        return e.getCause();
    }

    /** Returns once the loop has run every task queued before this call, {@code times} times over. */
    private void drainLoop(int times) throws Exception {
        for (int i = 0; i < times; i++) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            loop.execute(() -> f.complete(null));
            f.get(20, TimeUnit.SECONDS);
        }
    }

    /**
     * A peer that floods empty requests and reads none of the replies. Each held request is charged
     * its header and bookkeeping, not its (empty) body's length, so the channel stops reading after a
     * bounded number, leaving most of the flood in the peer's queue; once the peer reads again, every
     * request is answered.
     */
    @Test
    @Timeout(60)
    void emptyRequestsFromAPeerThatReadsNothingAreHeldBoundedThenAllAnswered() throws Exception {
        int n = 100_000; // 1,000,000 bytes on the wire
        AtomicInteger handled = new AtomicInteger();
        MessageChannelBuilder server = MessageChannel.builder(Pipes.codecs()).backlog(64 * 1024)
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> {
                    handled.incrementAndGet();
                    ctx.reply(Codecs.BYTES, new byte[100]);
                });
        Pipes p = new Pipes(loop, server, MessageChannel.builder(Pipes.codecs()));
        p.bIn.pause(); // the flooder "b" reads nothing
        List<LoopFuture<byte[]>> replies = new ArrayList<>(n);
        CompletableFuture<Void> sent = new CompletableFuture<>();
        loop.execute(() -> {
            for (int i = 0; i < n; i++) {
                replies.add(p.b.request(Codecs.BYTES, new byte[0], byte[].class, null));
            }
            sent.complete(null);
        });
        sent.get(20, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (p.a.isWritable()) { // the server's replies back up: from here on it holds the flood
            assertTrue(System.nanoTime() < deadline, "the server's replies never backed up");
            drainLoop(1);
        }
        drainLoop(50);
        // Held without bound, the whole flood would have been read by now; bounded, the server read at
        // most its pipe, its read buffer and ~64 KiB / 74 held frames, and stopped.
        assertTrue(p.b.queuedBytes() > 500_000, "the flooder still queues " + p.b.queuedBytes() + " bytes");
        assertTrue(handled.get() < n / 10, handled.get() + " handled");
        p.bIn.resume();
        for (LoopFuture<byte[]> r : replies) {
            assertEquals(100, r.get(20, TimeUnit.SECONDS).length);
        }
        assertEquals(n, handled.get());
        assertEquals(0, p.b.pendingRequests());
        assertTrue(p.a.isOpen());
    }

    /**
     * Two channels that flood each other with large requests, each past the other's backlog: both
     * must stop reading, and neither can ever take the other's bytes again. That is reported, typed,
     * after the stall timeout, and every request fails rather than hangs.
     */
    @Test
    @Timeout(60)
    void twoPeersThatFloodEachOtherPastTheBacklogFailTypedInsteadOfHanging() throws Exception {
        byte[] body = new byte[4096];
        MessageChannelBuilder cfg = MessageChannel.builder(Pipes.codecs()).backlog(16 * 1024)
                .stallTimeout(Duration.ofMillis(300))
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b));
        MessageChannelBuilder cfg2 = MessageChannel.builder(Pipes.codecs()).backlog(16 * 1024)
                .stallTimeout(Duration.ofMillis(300))
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b));
        Pipes p = new Pipes(loop, cfg, cfg2);
        LoopFuture<Void> aClosed = p.a.closeFuture();
        LoopFuture<Void> bClosed = p.b.closeFuture();
        List<LoopFuture<byte[]>> all = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            all.add(p.a.request(Codecs.BYTES, body, byte[].class, null));
            all.add(p.b.request(Codecs.BYTES, body, byte[].class, null));
        }
        Throwable stalled = null;
        for (LoopFuture<Void> closed : List.of(aClosed, bClosed)) {
            try {
                closed.get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof PeerStalledException) {
                    stalled = e.getCause();
                }
            }
        }
        assertInstanceOf(PeerStalledException.class, stalled, "one side reports the stall");
        assertTrue(stalled.getMessage().contains("took none of our"), stalled.getMessage());
        int failed = 0;
        for (LoopFuture<byte[]> r : all) {
            try {
                r.get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertInstanceOf(ChannelClosedException.class, e.getCause());
                failed++;
            }
        }
        assertTrue(failed > 0);
        assertEquals(0, p.a.pendingRequests());
        assertEquals(0, p.b.pendingRequests());
    }

    /**
     * closeFuture() used to be the channel's own future: a caller's cancel, complete or orTimeout
     * changed it for the library and every other caller. Each call now returns a copy.
     */
    @Test
    @Timeout(30)
    void aCallerCannotPoisonTheCloseFutureForOthers() throws Exception {
        MessageChannelBuilder echo = MessageChannel.builder(Pipes.codecs()).handleAny((ctx, m) -> ctx.reply(ctx.type(), m));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), echo);
        LoopFuture<Void> cancelled = p.a.closeFuture();
        assertTrue(cancelled.cancel(true));
        LoopFuture<Void> completed = p.a.closeFuture();
        assertTrue(completed.complete(null));
        CompletableFuture<Void> timedOut = p.a.closeFuture().orTimeout(10, TimeUnit.MILLISECONDS);
        assertInstanceOf(TimeoutException.class, failure(timedOut));
        LoopFuture<Void> failed = p.a.closeFuture();
        failed.completeExceptionally(new IllegalStateException("a caller's own"));

        LoopFuture<Void> other = p.a.closeFuture();
        assertFalse(other.isDone(), "another caller still sees an open channel");
        assertTrue(p.a.isOpen());
        assertEquals("still", p.a.request("still").get(20, TimeUnit.SECONDS));
        // blocking on a copy from the loop still fails fast
        CompletableFuture<Throwable> onLoop = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                p.a.closeFuture().join();
                onLoop.complete(null);
            } catch (Throwable t) {
                onLoop.complete(t);
            }
        });
        assertInstanceOf(BlockingOnLoopException.class, onLoop.get(20, TimeUnit.SECONDS));

        p.a.close();
        assertNull(other.get(20, TimeUnit.SECONDS));
        assertNull(p.a.closeFuture().get(20, TimeUnit.SECONDS));
        assertNull(p.a.closeGracefully().get(20, TimeUnit.SECONDS));
        assertThrows(CancellationException.class, cancelled::join);
        // the peer saw the real end, and closed too
        assertNull(p.b.closeFuture().get(20, TimeUnit.SECONDS));
    }

    /** A copy a caller cancels does not hide a failure from another caller. */
    @Test
    @Timeout(30)
    void aCancelledCopyLeavesTheFailureForOthers() throws Exception {
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs()));
        assertTrue(p.b.closeFuture().cancel(true));
        LoopFuture<Void> other = p.b.closeFuture();
        p.bInRawWriter.write(new byte[] {1, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0}).get(20, TimeUnit.SECONDS); // unknown flag bits
        assertInstanceOf(io.dualpipe.core.codec.ProtocolException.class, failure(other));
        assertInstanceOf(io.dualpipe.core.codec.ProtocolException.class, failure(p.b.closeFuture()));
    }
}
