package io.dualpipe.core.message;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A message channel against a raw peer over two real pipes, the peer's side driven frame by frame:
 * what happens to the peer's frames the channel holds while its own output is backed up.
 */
class MessageChannelHeldFramesReviewTest {
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("held-frames-test");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    /** Our channel {@code ch}; the peer reads {@code peerIn} (our output) and writes {@code peerOut} (our input). */
    private static final class RawPeer {
        final MessageChannel ch;
        final FdStream peerIn;
        final FdStream peerOut;

        RawPeer(EventLoop loop, MessageChannelBuilder cfg, int peerReadLimit) {
            FdChannel[] toPeer = FdChannel.pipe();
            FdChannel[] fromPeer = FdChannel.pipe();
            FdStream out = FdStream.sink(loop, toPeer[1], "ch.out", 64 * 1024, 32 * 1024);
            FdStream in = FdStream.source(loop, fromPeer[0], "ch.in", 64 * 1024);
            this.peerIn = FdStream.source(loop, toPeer[0], "peer.in", peerReadLimit);
            this.peerOut = FdStream.sink(loop, fromPeer[1], "peer.out", 64 * 1024, 32 * 1024);
            this.ch = cfg.name("ch").open(in, out);
        }

        void write(int type, int flags, int requestId, byte[] body) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(Frames.HEADER_SIZE + body.length);
            b.put((byte) type).put((byte) flags).putInt(requestId).putInt(body.length).put(body).flip();
            peerOut.write(b).get(20, TimeUnit.SECONDS);
        }
    }

    /** Makes {@code ch} unwritable: one large one-way message the peer, not reading, cannot take. */
    private static void backUp(RawPeer p) throws Exception {
        p.ch.send(Codecs.BYTES, new byte[1024 * 1024]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (p.ch.isWritable()) {
            assertTrue(System.nanoTime() < deadline, "the channel never backed up");
            Thread.onSpinWait();
        }
    }

    /**
     * A request with a timeout whose reply came behind one of the peer's requests, held because our
     * output is backed up, while the peer reads nothing. The timer used to be cancelled when the
     * reply was held ("it came in time"), but the caller never sees it: the request waited forever,
     * its timeout disarmed. The caller's timeout bounds what it waits for, so it must still fire.
     */
    @Test
    @Timeout(60)
    void aRequestTimeoutStillFiresWhileItsReplyIsHeldBehindAPeerThatReadsNothing() throws Exception {
        RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b)), 64 * 1024);
        p.peerIn.pause(); // the peer reads nothing
        backUp(p);
        LoopFuture<byte[]> r = p.ch.request(Codecs.BYTES, new byte[] {1}, byte[].class, Duration.ofMillis(300));
        // The request's id: ids start at 1, and this is the channel's first request.
        p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2}); // held: our output is backed up
        p.write(Codecs.BYTES, Frames.FLAG_REPLY, 1, new byte[] {3});    // held behind it
        try {
            r.get(10, TimeUnit.SECONDS);
            fail("the reply cannot have been delivered: the request ahead of it is still held");
        } catch (ExecutionException e) {
            assertInstanceOf(RequestTimeoutException.class, e.getCause());
        } catch (TimeoutException e) {
            fail("a request with a 300 ms timeout still waits after 10 s: its timer was disarmed when its reply was held");
        }
        assertTrue(p.ch.isOpen());
    }

    /**
     * The peer ends its stream after a request we hold, while it reads nothing. Our request it never
     * answered can never be answered now; MessageChannel promises that pending requests fail when the
     * peer ends its stream. It waited instead until the held frames were dispatched, i.e. forever.
     */
    @Test
    @Timeout(60)
    void pendingRequestsFailWhenThePeerEndsEvenWhileItsFramesAreHeld() throws Exception {
        RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b)), 64 * 1024);
        p.peerIn.pause();
        backUp(p);
        LoopFuture<byte[]> r = p.ch.request(Codecs.BYTES, new byte[] {1}, byte[].class, null);
        p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2}); // held
        p.peerOut.shutdownOutput().get(20, TimeUnit.SECONDS);         // the peer's end of stream
        try {
            r.get(10, TimeUnit.SECONDS);
            fail("the peer never answered");
        } catch (ExecutionException e) {
            assertInstanceOf(ChannelClosedException.class, e.getCause());
        } catch (TimeoutException e) {
            fail("the peer ended its stream, yet our unanswered request still waits after 10 s");
        }
        // A request made after the peer's end cannot be answered either.
        LoopFuture<byte[]> late = p.ch.request(Codecs.BYTES, new byte[] {4}, byte[].class, null);
        try {
            late.get(10, TimeUnit.SECONDS);
            fail("the peer has ended: nobody can answer");
        } catch (ExecutionException e) {
            assertInstanceOf(ChannelClosedException.class, e.getCause());
        } catch (TimeoutException e) {
            fail("a request made after the peer's end still waits after 10 s");
        }
    }

    /**
     * The stall watch measured progress in whole writes completed. A peer that reads steadily but
     * slowly (~100 KiB/s here) through one large frame (256 KiB) completes no write for seconds, and
     * the channel closed with a PeerStalledException although the peer took bytes all along.
     */
    @Test
    @Timeout(60)
    void aSlowButSteadyReaderOfOneLargeFrameIsNotTakenForAStalledPeer() throws Exception {
        RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs()).backlog(4096)
                .stallTimeout(Duration.ofMillis(500))
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, new byte[0])), 4096);
        p.peerIn.pause();
        int big = 256 * 1024;
        LoopFuture<Void> sent = p.ch.send(Codecs.BYTES, new byte[big]);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (p.ch.isWritable()) {
            assertTrue(System.nanoTime() < deadline, "the channel never backed up");
            Thread.onSpinWait();
        }
        // Past the backlog: the channel stops reading, and its stall watch starts.
        for (int i = 0; i < 16; i++) {
            p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 100 + i, new byte[1024]);
        }
        // The peer now reads 4 KiB every 40 ms, steadily: the frame takes ~2.5 s to go through.
        AtomicLong read = new AtomicLong();
        CompletableFuture<Void> allRead = new CompletableFuture<>();
        long expected = Frames.HEADER_SIZE + big;
        loop.execute(() -> slowRead(p.peerIn, read, expected, allRead));
        LoopFuture<Void> closed = p.ch.closeFuture();
        CompletableFuture.anyOf(allRead, closed).handle((v, e) -> null).get(30, TimeUnit.SECONDS);
        assertFalse(closed.isDone(), "a slow but steady reader (" + read.get() + " of " + expected
                + " bytes read) closed the channel: " + closed);
        allRead.get(30, TimeUnit.SECONDS);
        assertTrue(sent.isDone() && !sent.isCompletedExceptionally(), "the large frame was sent: " + sent);
        assertTrue(p.ch.isOpen());
    }

    /** On the loop: reads up to 4 KiB, then again 40 ms later, until {@code expected} bytes are in. */
    private void slowRead(FdStream in, AtomicLong read, long expected, CompletableFuture<Void> done) {
        in.read(4096).whenComplete((bytes, e) -> {
            if (e != null) {
                done.completeExceptionally(e);
                return;
            }
            if (read.addAndGet(bytes.length) >= expected) {
                done.complete(null);
                return;
            }
            loop.schedule(() -> slowRead(in, read, expected, done), 40, TimeUnit.MILLISECONDS);
        });
    }

    /** The peer's frames, as it sent them, reach the handlers in order even across a hold: sanity. */
    @Test
    @Timeout(60)
    void heldFramesAreDispatchedInOrderOnceThePeerReads() throws Exception {
        StringBuilder seen = new StringBuilder();
        RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    seen.append(s);
                    if (ctx.isRequest()) {
                        ctx.reply(Codecs.UTF8, s);
                    }
                }), 64 * 1024);
        p.peerIn.pause();
        backUp(p);
        LoopFuture<String> r = p.ch.request(Codecs.UTF8, "q", String.class, null);
        p.write(Codecs.UTF8, 0, 0, "a".getBytes());
        p.write(Codecs.UTF8, Frames.FLAG_REQUEST, 9, "b".getBytes()); // held
        p.write(Codecs.UTF8, 0, 0, "c".getBytes());                    // held behind b
        p.write(Codecs.UTF8, Frames.FLAG_REPLY, 1, "d".getBytes());    // held behind b
        CompletableFuture<String> atReply = r.thenApply(x -> seen + "|" + x).toCompletableFuture();
        p.peerIn.resume(); // listener-less: drain what we sent into read()s
        AtomicLong read = new AtomicLong();
        CompletableFuture<Void> drained = new CompletableFuture<>();
        loop.execute(() -> fastRead(p.peerIn, read, drained));
        assertEquals("abc|d", atReply.get(20, TimeUnit.SECONDS));
    }

    /**
     * A graceful close while the peer's frames are held: the reply to our request was read before the
     * close began, yet terminate dropped the backlog and failed the request with a
     * ChannelClosedException (and the peer's held request went unanswered), because the outbound
     * queue drained, and the channel terminated, before the task that dispatches held frames ran.
     */
    @Test
    @Timeout(60)
    void aGracefulCloseStillDeliversAReplyReadBeforeIt() throws Exception {
        RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b)), 64 * 1024);
        p.peerIn.pause();
        backUp(p);
        LoopFuture<byte[]> r = p.ch.request(Codecs.BYTES, new byte[] {1}, byte[].class, null);
        p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2}); // held
        p.write(Codecs.BYTES, Frames.FLAG_REPLY, 1, new byte[] {3});    // held behind it
        // Once the channel has read both (a loop round trip after the peer's writes is not enough
        // to know that), close gracefully; the peer then reads everything.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (p.ch.pendingRequests() != 0) {
            assertTrue(System.nanoTime() < deadline, "the reply was never read");
            Thread.onSpinWait();
        }
        LoopFuture<Void> closed = p.ch.closeGracefully();
        p.peerIn.resume();
        AtomicLong read = new AtomicLong();
        CompletableFuture<Void> drained = new CompletableFuture<>();
        loop.execute(() -> fastRead(p.peerIn, read, drained));
        closed.get(20, TimeUnit.SECONDS);
        try {
            assertEquals(3, r.get(20, TimeUnit.SECONDS)[0]);
        } catch (ExecutionException e) {
            fail("the reply was read before the graceful close, yet the request failed: " + e.getCause());
        }
    }

    private void fastRead(FdStream in, AtomicLong read, CompletableFuture<Void> done) {
        in.read(64 * 1024).whenComplete((bytes, e) -> {
            if (e != null || bytes.length == 0) {
                done.complete(null);
                return;
            }
            read.addAndGet(bytes.length);
            fastRead(in, read, done);
        });
    }
}
