package io.dualpipe.core.message;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.codec.UnknownTypeException;
import io.dualpipe.core.message.Review18Support.Outcome;
import io.dualpipe.core.message.Review18Support.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dualpipe.core.message.Review18Support.assertToldOnce;
import static io.dualpipe.core.message.Review18Support.barrier;
import static io.dualpipe.core.message.Review18Support.loopTimers;
import static io.dualpipe.core.message.Review18Support.onLoop;
import static io.dualpipe.core.message.Review18Support.spinUntil;
import static io.dualpipe.core.message.Review18Support.timeoutEntries;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review of a3e3fce (ReplyListener requests): a listener is told exactly once whatever races its
 * reply (timeout, close, loop shutdown, the held-frames backlog), timers do not leak, and the
 * future form still behaves as before. Real pipes throughout.
 */
class Review18ListenerReviewTest {
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("review18");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private Pipes echoPair() {
        return Review18Support.echoPair(loop);
    }

    /** Replies racing 1..3 ms timeouts (lanes and, past four distinct timeouts, own timers): each told once. */
    @Test
    @Timeout(60)
    void replyRacingItsTimeoutIsToldOnce() throws Exception {
        Pipes p = echoPair();
        List<Outcome<byte[]>> all = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            Outcome<byte[]> o = new Outcome<>();
            all.add(o);
            Duration t = Duration.ofNanos(500_000L + (i % 7) * 400_000L); // 7 distinct: 4 lanes + own timers
            if (i % 2 == 0) {
                p.a.request(Codecs.BYTES, new byte[] {(byte) i}, byte[].class, t, o);
            } else {
                loop.execute(() -> p.a.request(Codecs.BYTES, ByteBuffer.wrap(new byte[] {1}), byte[].class, t, o));
            }
        }
        for (Outcome<byte[]> o : all) {
            o.result.handle((v, e) -> null).get(20, TimeUnit.SECONDS);
        }
        barrier(loop);
        assertToldOnce(all);
        spinUntil(() -> p.a.pendingRequests() == 0, "pending requests left: " + p.a.pendingRequests());
    }

    /**
     * Other threads keep requesting while the channel closes (close, closeGracefully, or the peer
     * closing): each listener told once, none lost.
     */
    @Test
    @Timeout(90)
    void closeWhileOtherThreadsHandOverRequests() throws Exception {
        for (int mode = 0; mode < 3; mode++) {
            Pipes p = echoPair();
            List<Outcome<String>> all = new CopyOnWriteArrayList<>();
            List<Thread> threads = requesters(p, all, i -> i % 3 == 0 ? Duration.ofSeconds(30) : null,
                    o -> o.result.isCompletedExceptionally() || !p.a.isOpen()); // refused on this thread, or closing
            switch (mode) {
                case 0 -> p.a.close();
                case 1 -> p.a.closeGracefully();
                default -> p.b.close();
            }
            for (Thread th : threads) {
                th.join(20_000);
                assertFalse(th.isAlive());
            }
            for (Outcome<String> o : all) {
                o.result.handle((v, e) -> null).get(20, TimeUnit.SECONDS);
            }
            p.a.closeFuture().handle((v, e) -> null).get(20, TimeUnit.SECONDS);
            barrier(loop);
            assertToldOnce(all);
            assertEquals(0, p.a.pendingRequests(), "mode " + mode);
        }
    }

    /**
     * The loop shuts down while other threads hand requests over: when close() returns, every listener
     * has been told, once (a refused hand-over on the caller's thread, the rest on the loop).
     */
    @Test
    @Timeout(60)
    void loopShutdownWhileHandingOverTellsEveryListenerOnce() throws Exception {
        Pipes p = echoPair();
        List<Outcome<String>> all = new CopyOnWriteArrayList<>();
        List<Thread> threads = requesters(p, all, i -> i % 2 == 0 ? Duration.ofMillis(5_000 + i % 9) : null,
                o -> o.result.isCompletedExceptionally() && !o.onLoop); // refused on this thread
        loop.close(); // waits for the loop thread to end
        for (Thread th : threads) {
            th.join(20_000);
            assertFalse(th.isAlive());
        }
        for (Outcome<String> o : all) {
            assertTrue(o.result.isDone(), "a listener was never told, though the loop has terminated");
            assertEquals(1, o.calls.get());
        }
    }

    /**
     * Four threads that keep requesting through listeners ({@code all} collects them) until
     * {@code stop} says a request's outcome ends their run; returns once 2,000 replies have come.
     */
    private static List<Thread> requesters(Pipes p, List<Outcome<String>> all, java.util.function.IntFunction<Duration> timeout,
                                           java.util.function.Predicate<Outcome<String>> stop) {
        AtomicInteger replied = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; ; i++) {
                    Outcome<String> o = new Outcome<>();
                    o.result.thenRun(replied::incrementAndGet);
                    all.add(o);
                    p.a.request(Codecs.UTF8, "q" + i, String.class, timeout.apply(i), o);
                    if (stop.test(o)) {
                        return;
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        spinUntil(() -> replied.get() > 2_000, "no replies");
        return threads;
    }

    /** A reply held behind a peer request (our output backed up) whose lane timeout fires first: told once. */
    @Test
    @Timeout(60)
    void heldReplyThatTimesOutIsToldOnceEvenWhenDispatchedLater() throws Exception {
        for (boolean ownTimer : new boolean[] {false, true}) {
            RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                    .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b)));
            p.backUp();
            List<Outcome<Object>> lanes = new ArrayList<>();
            if (ownTimer) { // fill the four lanes: the next distinct timeout gets a timer of its own
                for (int i = 0; i < 4; i++) {
                    Outcome<Object> o = new Outcome<>();
                    lanes.add(o);
                    p.ch.request(Codecs.BYTES, new byte[] {9}, Object.class, Duration.ofSeconds(40 + i), o);
                }
            }
            Outcome<ByteBuffer> r = new Outcome<>();
            p.ch.request(Codecs.BYTES, new byte[] {1}, ByteBuffer.class, Duration.ofMillis(200), r);
            int id = lanes.size() + 1;
            p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2}); // held
            p.write(Codecs.BYTES, Frames.FLAG_REPLY, id, new byte[] {3});   // held behind it
            assertInstanceOf(RequestTimeoutException.class, r.failure());
            p.readAll(loop); // now the held frames are dispatched, the late reply among them
            spinUntil(() -> p.ch.isWritable(), "never writable again");
            barrier(loop);
            assertEquals(1, r.calls.get());
            assertTrue(p.ch.isOpen());
            p.ch.close();
            for (Outcome<Object> o : lanes) {
                assertInstanceOf(ChannelClosedException.class, o.failure());
                assertEquals(1, o.calls.get());
            }
        }
    }

    /** A held reply when the channel closes, the loop closes, or closes gracefully: told once each. */
    @Test
    @Timeout(60)
    void heldReplyIsToldOnceOnCloseAndOnGracefulClose() throws Exception {
        for (int mode = 0; mode < 3; mode++) {
            EventLoop l = mode == 1 ? EventLoop.create("review18-held") : loop;
            RawPeer p = new RawPeer(l, MessageChannel.builder(Pipes.codecs())
                    .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b)));
            p.backUp();
            Outcome<ByteBuffer> r = new Outcome<>();
            p.ch.request(Codecs.BYTES, new byte[] {1}, ByteBuffer.class, Duration.ofSeconds(30), r);
            p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2});
            p.write(Codecs.BYTES, Frames.FLAG_REPLY, 1, new byte[] {3, 4});
            spinUntil(() -> p.ch.pendingRequests() == 0, "the reply was never read");
            switch (mode) {
                case 0 -> {
                    p.ch.close();
                    assertInstanceOf(ChannelClosedException.class, r.failure());
                }
                case 1 -> {
                    int before = r.calls.get();
                    assertEquals(0, before);
                    l.close();
                    assertTrue(r.result.isDone(), "a held reply's listener was never told at loop shutdown");
                    assertInstanceOf(DualPipeException.class, r.failure());
                }
                default -> {
                    LoopFuture<Void> closed = p.ch.closeGracefully();
                    p.readAll(l);
                    closed.get(20, TimeUnit.SECONDS);
                    assertArrayEquals(new byte[] {3, 4}, (byte[]) r.get());
                }
            }
            if (mode != 1) {
                barrier(l);
            }
            assertEquals(1, r.calls.get());
        }
    }

    /** An unknown reply type asked for as ByteBuffer: typed failure, told once, the channel stays open. */
    @Test
    @Timeout(60)
    void unknownReplyTypeAskedForAsByteBufferFailsTyped() throws Exception {
        RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs()));
        Outcome<ByteBuffer> r = new Outcome<>();
        p.ch.request(Codecs.BYTES, new byte[] {1}, ByteBuffer.class, Duration.ofSeconds(30), r);
        p.write(0x7f, Frames.FLAG_REPLY, 1, new byte[] {3});
        assertInstanceOf(UnknownTypeException.class, r.failure());
        Outcome<ByteBuffer> err = new Outcome<>();
        p.ch.request(Codecs.BYTES, new byte[] {1}, ByteBuffer.class, Duration.ofSeconds(30), err);
        p.write(Codecs.UTF8, Frames.FLAG_REPLY | Frames.FLAG_ERROR, 2, "nope".getBytes());
        assertInstanceOf(RemoteException.class, err.failure());
        barrier(loop);
        assertEquals(1, r.calls.get());
        assertEquals(1, err.calls.get());
        assertTrue(p.ch.isOpen());
        assertEquals(0, p.ch.pendingRequests());
    }

    /** Listeners that throw (Errors too) on every path leave the channel and the loop working. */
    @Test
    @Timeout(60)
    void listenersThatThrowOnEveryPathBreakNothing() throws Exception {
        List<DeferredReply> silent = new CopyOnWriteArrayList<>();
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (s.equals("silent")) {
                        silent.add(ctx.defer());
                    } else {
                        ctx.reply(Codecs.UTF8, s);
                    }
                }));
        AtomicInteger told = new AtomicInteger();
        ReplyListener<Object> bomb = (r, e) -> {
            told.incrementAndGet();
            throw new AssertionError("listener bug");
        };
        p.a.request(Codecs.UTF8, "ok", Object.class, null, bomb);                          // reply
        p.a.request(Codecs.UTF8, "silent", Object.class, Duration.ofMillis(20), bomb);     // lane timeout
        for (int i = 0; i < 5; i++) {                                                      // own timers
            p.a.request(Codecs.UTF8, "silent", Object.class, Duration.ofMillis(30 + i), bomb);
        }
        p.a.request(Codecs.UTF8, 42, Object.class, null, bomb);                            // on this thread
        spinUntil(() -> told.get() == 8, "told " + told.get());
        Outcome<Object> ok = new Outcome<>();
        p.a.request(Codecs.UTF8, "still", Object.class, null, ok);
        assertEquals("still", ok.get());
        p.a.request(Codecs.UTF8, "silent", Object.class, null, bomb);
        spinUntil(() -> silent.size() == 7, "b never read the last request");
        p.a.close();                                                                       // closed
        spinUntil(() -> told.get() == 9, "told " + told.get());
        assertEquals(42, onLoop(loop, () -> 42));
    }

    /** Own timers (a fifth distinct timeout and up) are cancelled however the request ends; lanes stay bounded. */
    @Test
    @Timeout(60)
    void ownTimersAreCancelledAndLaneEntriesStayBounded() throws Exception {
        List<DeferredReply> silent = new CopyOnWriteArrayList<>();
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    switch (s) {
                        case "err" -> ctx.replyError("no");
                        case "num" -> ctx.reply(Codecs.JSON, 5);
                        case "silent" -> silent.add(ctx.defer());
                        default -> ctx.reply(Codecs.UTF8, s);
                    }
                }));
        int baseline = loopTimers(loop);
        List<Outcome<String>> all = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            Outcome<String> o = new Outcome<>();
            all.add(o);
            String body = i % 3 == 0 ? "err" : i % 3 == 1 ? "num" : "x" + i;
            p.a.request(Codecs.UTF8, body, String.class, Duration.ofSeconds(100 + i % 12), o); // 12 distinct
        }
        List<LoopFuture<String>> futures = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            futures.add(p.a.request(Codecs.UTF8, i % 2 == 0 ? "num" : "y", String.class, Duration.ofSeconds(200 + i % 9)));
        }
        for (Outcome<String> o : all) {
            o.result.handle((v, e) -> null).get(20, TimeUnit.SECONDS);
        }
        for (LoopFuture<String> f : futures) {
            f.handle((v, e) -> null).get(20, TimeUnit.SECONDS);
        }
        barrier(loop);
        assertToldOnce(all);
        int lanes = 4;
        assertTrue(loopTimers(loop) <= baseline + lanes, "timers left: " + loopTimers(loop) + ", baseline " + baseline);

        // A chain of 20,000 listener requests with one timeout: the lane's ring stays bounded.
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger left = new AtomicInteger(20_000);
        ReplyListener<String> chain = new ReplyListener<>() {
            @Override
            public void onReply(String r, Throwable e) {
                if (e != null) {
                    done.completeExceptionally(e);
                } else if (left.decrementAndGet() == 0) {
                    done.complete(null);
                } else {
                    p.a.request(Codecs.UTF8, "c", String.class, Duration.ofSeconds(100), this);
                }
            }
        };
        loop.execute(() -> p.a.request(Codecs.UTF8, "c", String.class, Duration.ofSeconds(100), chain));
        done.get(40, TimeUnit.SECONDS);
        assertTrue(timeoutEntries(p.a) < 200, "lane entries: " + timeoutEntries(p.a));

        // Unanswered ones with own timers (and lane ones) when the channel closes: all told, every timer gone.
        List<Outcome<String>> open = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Outcome<String> o = new Outcome<>();
            open.add(o);
            p.a.request(Codecs.UTF8, "silent", String.class, Duration.ofSeconds(300 + i), o);
        }
        spinUntil(() -> silent.size() == 10, "b never read them");
        assertEquals(10, p.a.pendingRequests());
        p.a.close();
        for (Outcome<String> o : open) {
            assertInstanceOf(ChannelClosedException.class, o.failure());
        }
        barrier(loop);
        assertToldOnce(open);
        assertEquals(0, p.a.pendingRequests());
        assertTrue(loopTimers(loop) <= baseline, "timers left after close: " + loopTimers(loop) + ", baseline " + baseline);
    }
}
