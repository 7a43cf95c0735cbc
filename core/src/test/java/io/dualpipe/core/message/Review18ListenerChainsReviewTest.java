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
 * Review of a3e3fce (ReplyListener requests), continued: listeners that make requests or close the
 * channel from inside a timeout run, the future form after the refactor, and many callers and loop
 * chains at once, each told its own outcome exactly once. Real pipes throughout.
 */
class Review18ListenerChainsReviewTest {
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

    /**
     * Listeners acting inside a timeout run: one retries into the same lane 50 times; another closes
     * the channel while more requests of its lane (or with timers of their own) are due: each told once.
     */
    @Test
    @Timeout(60)
    void listenersThatRetryOrCloseInsideATimeoutRunAreEachToldOnce() throws Exception {
        for (boolean ownTimers : new boolean[] {false, true}) {
            List<DeferredReply> silent = new CopyOnWriteArrayList<>();
            Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> silent.add(ctx.defer())));
            CompletableFuture<Integer> retried = new CompletableFuture<>();
            ReplyListener<String> retry = new ReplyListener<>() {
                int n;

                @Override
                public void onReply(String r, Throwable e) {
                    if (!(e instanceof RequestTimeoutException)) {
                        retried.completeExceptionally(new AssertionError("told " + r + " / " + e));
                    } else if (++n == 50) {
                        retried.complete(n);
                    } else {
                        p.a.request(Codecs.UTF8, "again", String.class, Duration.ofMillis(3), this);
                    }
                }
            };
            p.a.request(Codecs.UTF8, "again", String.class, Duration.ofMillis(3), retry);
            assertEquals(50, retried.get(20, TimeUnit.SECONDS));
            if (ownTimers) {
                for (int i = 0; i < 4; i++) {
                    p.a.request(Codecs.UTF8, "fill", Object.class, Duration.ofSeconds(100 + i), (r, e) -> { });
                }
            }
            List<Outcome<String>> rest = new ArrayList<>();
            AtomicInteger closer = new AtomicInteger();
            p.a.request(Codecs.UTF8, "first", String.class, Duration.ofMillis(40), (r, e) -> {
                closer.incrementAndGet();
                p.a.close();
            });
            for (int i = 0; i < 10; i++) {
                Outcome<String> o = new Outcome<>();
                rest.add(o);
                p.a.request(Codecs.UTF8, "next", String.class, Duration.ofMillis(ownTimers ? 40 + i : 40), o);
            }
            p.a.closeFuture().get(20, TimeUnit.SECONDS);
            for (Outcome<String> o : rest) {
                Throwable f = o.failure();
                assertTrue(f instanceof ChannelClosedException || f instanceof RequestTimeoutException, f.toString());
            }
            barrier(loop);
            assertToldOnce(rest);
            assertEquals(1, closer.get());
        }
    }

    /**
     * Future form after the refactor: cancel forgets and stops an own timer, a late reply is dropped,
     * timeouts and ReplyTypeException are typed, a ByteBuffer future is an owned copy (held path too).
     */
    @Test
    @Timeout(60)
    void futureFormStillCancelsTimesOutAndChecksTypes() throws Exception {
        List<DeferredReply> deferred = new CopyOnWriteArrayList<>();
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (s.startsWith("later")) {
                        deferred.add(ctx.defer());
                    } else {
                        ctx.reply(Codecs.UTF8, s);
                    }
                }));
        int baseline = loopTimers(loop);
        for (int i = 0; i < 4; i++) { // fill the lanes
            p.a.request(Codecs.UTF8, "x", String.class, Duration.ofSeconds(50 + i)).get(20, TimeUnit.SECONDS);
        }
        LoopFuture<String> c = p.a.request(Codecs.UTF8, "later-1", String.class, Duration.ofSeconds(90)); // own timer
        LoopFuture<String> c2 = p.a.request(Codecs.UTF8, "later-2", String.class, null);
        spinUntil(() -> deferred.size() == 2, "b never read them");
        assertEquals(2, p.a.pendingRequests());
        assertTrue(c.cancel(false));
        assertTrue(c2.cancel(false));
        barrier(loop);
        assertEquals(0, p.a.pendingRequests());
        assertTrue(loopTimers(loop) <= baseline + 4, "a cancelled request's own timer is still scheduled");
        for (DeferredReply d : deferred) {
            d.reply(Codecs.UTF8, "late").get(20, TimeUnit.SECONDS);
        }
        assertThrows(CancellationException.class, () -> c.get(1, TimeUnit.SECONDS));
        assertEquals("ok", p.a.request(Codecs.UTF8, "ok", String.class, null).get(20, TimeUnit.SECONDS));

        LoopFuture<String> t = p.a.request(Codecs.UTF8, "later-3", String.class, Duration.ofMillis(50));
        assertInstanceOf(RequestTimeoutException.class, assertThrows(ExecutionException.class, () -> t.get(20, TimeUnit.SECONDS)).getCause());
        LoopFuture<Integer> wrong = p.a.request(Codecs.UTF8, "text", Integer.class, null);
        assertInstanceOf(ReplyTypeException.class, assertThrows(ExecutionException.class, () -> wrong.get(20, TimeUnit.SECONDS)).getCause());
        ByteBuffer owned = p.a.request(Codecs.UTF8, "héllo", ByteBuffer.class, null).get(20, TimeUnit.SECONDS);
        assertFalse(owned.isReadOnly());
        assertEquals(0, owned.position());
        assertEquals("héllo", java.nio.charset.StandardCharsets.UTF_8.decode(owned).toString());

        RawPeer r = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b)));
        r.backUp();
        LoopFuture<ByteBuffer> held = r.ch.request(Codecs.BYTES, new byte[] {1}, ByteBuffer.class, null);
        r.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2});
        r.write(Codecs.BYTES, Frames.FLAG_REPLY, 1, new byte[] {5, 6, 7});
        r.readAll(loop);
        ByteBuffer hb = held.get(20, TimeUnit.SECONDS);
        assertEquals(3, hb.remaining());
        assertEquals(5, hb.get(0));
    }

    /**
     * Many threads hand over listener requests while chains on the loop make one per reply, with
     * timeouts over five distinct values (lanes and own timers) and the peer answering, failing or
     * staying silent: each request told once, with its own outcome.
     */
    @Test
    @Timeout(90)
    void concurrentCallersAndLoopChainsEachGetTheirOwnOutcome() throws Exception {
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> {
                    int kind = body.get(body.position()) & 3;
                    if (kind == 1) {
                        ctx.replyError("err");
                    } else if (kind == 2) {
                        ctx.defer(); // silent: times out
                    } else {
                        ctx.reply(Codecs.BYTES, body);
                    }
                }));
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger told = new AtomicInteger();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        int threads = 4;
        int perThread = 1_500;
        int chains = 6;
        int perChain = 1_500;
        CountDownLatchish all = new CountDownLatchish(threads * perThread + chains * perChain);
        List<CompletableFuture<Void>> chainDone = new ArrayList<>();
        for (int c = 0; c < chains; c++) {
            CompletableFuture<Void> d = new CompletableFuture<>();
            chainDone.add(d);
            int base = c;
            loop.execute(new Runnable() {
                int n;

                @Override
                public void run() {
                    byte[] body = {(byte) (n & 3), (byte) base, (byte) (n >> 8), (byte) n};
                    int kind = n & 3;
                    AtomicBoolean once = new AtomicBoolean();
                    p.a.request(Codecs.BYTES, ByteBuffer.wrap(body), ByteBuffer.class, timeout(kind, n), (r, e) -> {
                        told.incrementAndGet();
                        if (!once.compareAndSet(false, true)) {
                            problems.add("told twice");
                        }
                        check(kind, body, r == null ? null : copy(r), e, wrong);
                        all.countDown();
                        if (++n == perChain) {
                            d.complete(null);
                        } else {
                            run();
                        }
                    });
                }
            });
        }
        List<Thread> ths = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int tid = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    byte[] body = {(byte) (i & 3), (byte) (100 + tid), (byte) (i >> 8), (byte) i};
                    int kind = i & 3;
                    AtomicBoolean once = new AtomicBoolean();
                    p.a.request(Codecs.BYTES, body, byte[].class, timeout(kind, i), (r, e) -> {
                        told.incrementAndGet();
                        if (!once.compareAndSet(false, true)) {
                            problems.add("told twice");
                        }
                        check(kind, body, r, e, wrong);
                        all.countDown();
                    });
                }
            });
            th.start();
            ths.add(th);
        }
        for (Thread th : ths) {
            th.join(60_000);
        }
        all.await();
        CompletableFuture.allOf(chainDone.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        barrier(loop);
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals(0, wrong.get());
        assertEquals(threads * perThread + chains * perChain, told.get());
        spinUntil(() -> p.a.pendingRequests() == 0, "pending: " + p.a.pendingRequests());
    }

    /** Silent requests time out soon, the rest not under any load; six distinct values: lanes and own timers. */
    private static Duration timeout(int kind, int i) {
        return kind == 2 ? Duration.ofMillis(5 + i % 3) : Duration.ofMillis(20_000 + i % 3);
    }

    private static byte[] copy(ByteBuffer b) {
        byte[] c = new byte[b.remaining()];
        b.get(b.position(), c);
        return c;
    }

    private static void check(int kind, byte[] sent, byte[] reply, Throwable e, AtomicInteger wrong) {
        boolean ok = switch (kind) {
            case 1 -> e instanceof RemoteException;
            case 2 -> e instanceof RequestTimeoutException;
            default -> e == null && java.util.Arrays.equals(sent, reply);
        };
        if (!ok) {
            if (wrong.incrementAndGet() < 5) {
                System.err.println("WRONG kind " + kind + " sent " + java.util.Arrays.toString(sent) + " reply "
                        + java.util.Arrays.toString(reply) + " failure " + e);
            }
        }
    }

    /** A latch that fails the test instead of hanging. */
    private static final class CountDownLatchish {
        private final java.util.concurrent.CountDownLatch latch;

        CountDownLatchish(int n) {
            latch = new java.util.concurrent.CountDownLatch(n);
        }

        void countDown() {
            latch.countDown();
        }

        void await() throws InterruptedException {
            assertTrue(latch.await(60, TimeUnit.SECONDS), latch.getCount() + " never told");
        }
    }
}
