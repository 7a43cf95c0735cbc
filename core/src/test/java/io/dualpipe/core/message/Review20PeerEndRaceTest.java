package io.dualpipe.core.message;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.message.Review18Support.Outcome;
import io.dualpipe.core.message.Review18Support.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.core.message.Review18Support.barrier;
import static io.dualpipe.core.message.Review18Support.timeoutEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 20 of 94e0319 (a request made while the peer's end is being acted on is refused at once).
 * Adversarial: four threads keep requesting (listeners and futures, with and without timeouts)
 * while the peer ends its stream, with our output read (the end is acted on at once) or backed up
 * behind a held request of the peer's (the end waits for the held frames, the channel stays open).
 * Every request must be told exactly once, a failure must be a ChannelClosedException, nothing may
 * wait on a peer that can no longer answer, and nothing may be left in the table or the timeout
 * lanes. Real pipes; the peer is raw bytes.
 */
class Review20PeerEndRaceTest {
    private static final int PER_THREAD = 300;

    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("review20-end");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private static MessageChannelBuilder echo() {
        return MessageChannel.builder(Pipes.codecs()).handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s));
    }

    /** Either form of request, told through one Outcome: a listener, or a future's completion. */
    private static Outcome<String> request(MessageChannel ch, int i) {
        Outcome<String> o = new Outcome<>();
        Duration timeout = i % 3 == 0 ? Duration.ofSeconds(60) : null;
        if (i % 2 == 0) {
            ch.request(Codecs.UTF8, "q" + i, String.class, timeout, o);
        } else {
            LoopFuture<String> f = ch.request(Codecs.UTF8, "q" + i, String.class, timeout);
            f.whenComplete((v, e) -> o.onReply(v, e == null ? null : io.dualpipe.core.internal.Futures.unwrap(e)));
        }
        return o;
    }

    private static void assertToldOnceTyped(List<Outcome<String>> all, String round) {
        for (Outcome<String> o : all) {
            assertTrue(o.result.isDone(), round + ": a request was never told");
            assertEquals(1, o.calls.get(), round + ": told " + o.calls.get() + " times");
            if (o.result.isCompletedExceptionally()) {
                Throwable t = o.result.handle((v, e) -> e).join();
                assertInstanceOf(ChannelClosedException.class, t, round + ": " + t);
            }
        }
    }

    @Test
    @Timeout(120)
    void requestsFromFourThreadsRacingThePeersEndAreEachToldOnceTyped() throws Exception {
        for (int round = 0; round < 16; round++) {
            boolean held = round % 2 == 1;
            String name = (held ? "held" : "read") + " round " + round;
            RawPeer rp = new RawPeer(loop, echo());
            Outcome<String> first = new Outcome<>(); // id 1: in a held round its reply is held behind the peer's request
            if (held) {
                rp.backUp();
            } else {
                rp.readAll(loop);
            }
            rp.ch.request(Codecs.UTF8, "first", String.class, null, first);
            barrier(loop);
            List<Outcome<String>> all = new CopyOnWriteArrayList<>();
            CountDownLatch started = new CountDownLatch(4);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread th = new Thread(() -> {
                    for (int i = 0; i < PER_THREAD; i++) {
                        all.add(request(rp.ch, i));
                        if (i == 20) {
                            started.countDown();
                        }
                    }
                }, "review20-requester-" + t);
                threads.add(th);
                th.start();
            }
            assertTrue(started.await(20, TimeUnit.SECONDS));
            Outcome<String> sentinel = new Outcome<>(); // in the table before the end: failed when the end is acted on
            rp.ch.request(Codecs.UTF8, "sentinel", String.class, null, sentinel);
            barrier(loop);
            if (held) {
                rp.write(Codecs.UTF8, Frames.FLAG_REQUEST, 7, "held".getBytes(StandardCharsets.UTF_8));
                rp.write(Codecs.UTF8, Frames.FLAG_REPLY, 1, "r1".getBytes(StandardCharsets.UTF_8)); // held behind it
            } else {
                for (int id = 1; id <= 40; id++) {
                    rp.write(Codecs.UTF8, Frames.FLAG_REPLY, id, "r".getBytes(StandardCharsets.UTF_8));
                }
            }
            rp.peerOut.close(); // the peer's end
            if (held) {
                assertInstanceOf(ChannelClosedException.class, sentinel.failure(), name);
            } else {
                sentinel.result.handle((v, e) -> null).get(20, TimeUnit.SECONDS);
            }
            for (Thread th : threads) {
                th.join(20_000);
                assertFalse(th.isAlive(), name);
            }
            barrier(loop);
            if (held) {
                long untold = all.stream().filter(o -> !o.result.isDone()).count();
                int pending = Review18Support.onLoop(loop, rp.ch::pendingRequests);
                assertEquals(0, untold, name + ": " + untold + " of " + all.size() + " requests not told after the peer's end was"
                        + " acted on (the sentinel failed) and every thread's call had returned; " + pending + " in the table");
            }
            if (held) {
                // The peer reads nothing yet: whatever was not answered before its end can never be,
                // so every thread's request is told now, without waiting for the held frames.
                assertToldOnceTyped(all, name);
                assertFalse(first.result.isDone(), name + ": the held reply was delivered before the frame ahead of it");
                assertTrue(rp.ch.isOpen(), name + ": the held request must still be answered");
                rp.readAll(loop);
                assertEquals("r1", first.get(), name);
            }
            rp.ch.closeFuture().get(20, TimeUnit.SECONDS);
            barrier(loop);
            assertToldOnceTyped(all, name);
            assertTrue(first.result.isDone(), name);
            assertEquals(4 * PER_THREAD, all.size());
            assertEquals(0, rp.ch.pendingRequests(), name);
            assertEquals(0, timeoutEntries(rp.ch), name);
            rp.peerIn.close();
        }
    }

    /**
     * The handlers of the peer's held requests run after its end was read (our output was backed
     * up). A request each makes is refused before the call returns, typed, and its reply to the
     * peer still goes out; a send is still accepted (the peer may still read).
     */
    @Test
    @Timeout(60)
    void requestsFromHeldHandlersAfterThePeersEndAreRefusedBeforeTheCallReturns() throws Exception {
        List<String> problems = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> handled = new CompletableFuture<>();
        int[] count = new int[1];
        RawPeer rp = new RawPeer(loop, MessageChannel.builder(Pipes.codecs()).handle(Codecs.UTF8, String.class, (ctx, s) -> {
            Outcome<String> viaListener = new Outcome<>();
            ctx.channel().request(Codecs.UTF8, "nested", String.class, Duration.ofSeconds(60), viaListener);
            LoopFuture<String> viaFuture = ctx.channel().request(Codecs.UTF8, "nested", String.class, null);
            if (!viaListener.result.isDone() || !viaFuture.isDone()) {
                problems.add(s + ": a request after the peer's end was not refused at once");
            } else {
                Throwable a = viaListener.result.handle((v, e) -> e).join();
                Throwable b = viaFuture.handle((v, e) -> e).join();
                if (!(a instanceof ChannelClosedException) || !(b instanceof ChannelClosedException)) {
                    problems.add(s + ": refused with " + a + " / " + b);
                }
            }
            ctx.reply("re " + s);
            if (++count[0] == 3) {
                handled.complete(count[0]);
            }
        }));
        rp.backUp();
        for (int i = 0; i < 3; i++) {
            rp.write(Codecs.UTF8, Frames.FLAG_REQUEST, 10 + i, ("held" + i).getBytes(StandardCharsets.UTF_8));
        }
        rp.peerOut.close();
        barrier(loop);
        assertFalse(handled.isDone());
        rp.readAll(loop);
        assertEquals(3, handled.get(20, TimeUnit.SECONDS));
        rp.ch.closeFuture().get(20, TimeUnit.SECONDS);
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(0, rp.ch.pendingRequests());
        assertEquals(0, timeoutEntries(rp.ch));
        rp.peerIn.close();
    }

    /**
     * The peer ends while our request's reply is held behind one of its requests and our output is
     * backed up: the request is not failed (its reply is here), the end is acted on only once the
     * held frames went, and the request gets its reply then. Then a request after that close is refused.
     */
    @Test
    @Timeout(60)
    void aHeldReplyIsStillDeliveredAfterThePeersEnd() throws Exception {
        RawPeer rp = new RawPeer(loop, echo());
        rp.backUp();
        Outcome<String> mine = new Outcome<>();
        rp.ch.request(Codecs.UTF8, "mine", String.class, Duration.ofSeconds(60), mine);
        barrier(loop);
        rp.write(Codecs.UTF8, Frames.FLAG_REQUEST, 9, "held".getBytes(StandardCharsets.UTF_8));
        rp.write(Codecs.UTF8, Frames.FLAG_REPLY, 1, "yours".getBytes(StandardCharsets.UTF_8));
        rp.peerOut.close();
        barrier(loop);
        assertFalse(mine.result.isDone(), "a request whose reply was read was failed by the peer's end");
        rp.readAll(loop);
        assertEquals("yours", mine.get());
        rp.ch.closeFuture().get(20, TimeUnit.SECONDS);
        Outcome<String> late = new Outcome<>();
        rp.ch.request(Codecs.UTF8, "late", String.class, null, late);
        Throwable t = late.failure();
        assertNotNull(t);
        assertInstanceOf(ChannelClosedException.class, t);
        assertEquals(0, timeoutEntries(rp.ch));
        rp.peerIn.close();
    }
}
