package io.dualpipe.core.message;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.message.Review18Support.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.InvalidMarkException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dualpipe.core.message.Review18Support.barrier;
import static io.dualpipe.core.message.Review18Support.spinUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 20 of 4d40192 (raw bodies lent through one BodyLender per channel, shared by the
 * dispatcher and the reply listeners). Adversarial: frames of repeating and changing sizes (0, the
 * copy limit, either side of it) mixing replies, messages and requests in one chunk, so the one view
 * goes back and forth between handlers and listeners; the same behind held frames; callees that move,
 * limit, mark and reorder their view; callees that send, request, defer, close or hand the view to
 * another thread inside their call. Real pipes; the peer is raw bytes where the frame order matters.
 */
class Review20LentBodyReviewTest {
    private static final int[] SIZES = {54, 54, 0, 54, 1, 0, 4096, 4096, 4097, 54, 2048, 2049, 4095, 54, 0, 8, 8, 5000, 54};

    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("review20-lent");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private static byte[] body(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + seed * 29 + 3);
        }
        return b;
    }

    private static void frame(ByteArrayOutputStream out, int type, int flags, int id, byte[] body) {
        ByteBuffer h = ByteBuffer.allocate(Frames.HEADER_SIZE);
        h.put((byte) type).put((byte) flags).putInt(id).putInt(body.length);
        out.write(h.array(), 0, Frames.HEADER_SIZE);
        out.write(body, 0, body.length);
    }

    /** Checks a lent view on entry: fresh, exact, big-endian, read-only, the expected bytes. Null if fine. */
    private static String check(ByteBuffer v, byte[] expected, String who) {
        if (v == null) {
            return who + ": null";
        }
        if (!v.isReadOnly() || v.position() != 0 || v.limit() != expected.length || v.capacity() != expected.length
                || v.order() != ByteOrder.BIG_ENDIAN) {
            return who + ": lent as " + v + " " + v.order() + ", expected " + expected.length + " bytes";
        }
        try {
            v.reset();
            return who + ": a mark left by an earlier callee survived";
        } catch (InvalidMarkException expectedNoMark) {
            // fresh
        }
        byte[] got = new byte[expected.length];
        v.get(0, got);
        return Arrays.equals(expected, got) ? null : who + ": wrong bytes";
    }

    /** What a careless callee leaves behind. */
    private static void mess(ByteBuffer v) {
        int n = v.capacity();
        if (n > 2) {
            v.position(1).mark().position(2).limit(n - 1);
        } else {
            v.position(n);
        }
        v.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Collects the frames the peer reads from our output; replies by id. */
    private static final class ReplyCollector {
        private final FdStream in;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        ReplyCollector(FdStream in) {
            this.in = in;
        }

        void start(EventLoop loop) {
            in.resume();
            loop.execute(this::next);
        }

        private void next() {
            in.read(64 * 1024).whenComplete((b, e) -> {
                if (e == null && b.length > 0) {
                    synchronized (bytes) {
                        bytes.write(b, 0, b.length);
                    }
                    next();
                }
            });
        }

        Map<Integer, byte[]> replies() {
            byte[] all;
            synchronized (bytes) {
                all = bytes.toByteArray();
            }
            Map<Integer, byte[]> out = new HashMap<>();
            ByteBuffer b = ByteBuffer.wrap(all);
            while (b.remaining() >= Frames.HEADER_SIZE) {
                int at = b.position();
                b.get(); // type
                int flags = b.get() & 0xff;
                int id = b.getInt();
                int len = b.getInt();
                if (b.remaining() < len) {
                    b.position(at);
                    break;
                }
                byte[] body = new byte[len];
                b.get(body);
                if ((flags & Frames.FLAG_REPLY) != 0) {
                    out.put(id, body);
                }
            }
            return out;
        }
    }

    /**
     * One chunk of the peer's frames: for each size, a reply to one of our ByteBuffer requests, a
     * one-way message and a request, so that consecutive callees of the same size (a listener, then
     * a handler, then a handler that replies with its view) get the one reused view in turn. Each
     * callee checks its view on entry and then leaves it moved, limited, marked and little-endian.
     * Run twice: dispatched at once, and all held (our output backed up) and dispatched later.
     */
    @Test
    @Timeout(60)
    void interleavedSizesReachHandlersAndListenersIntactDirectAndHeld() throws Exception {
        for (boolean held : new boolean[] {false, true}) {
            List<String> problems = new CopyOnWriteArrayList<>();
            ConcurrentLinkedQueue<byte[]> expectedByHandler = new ConcurrentLinkedQueue<>();
            AtomicInteger handled = new AtomicInteger();
            RawPeer rp = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                    .handle(Codecs.BYTES, ByteBuffer.class, (ctx, v) -> {
                        byte[] want = expectedByHandler.poll();
                        String p = want == null ? "handler: unexpected frame" : check(v, want, "handler #" + handled.get());
                        if (p != null) {
                            problems.add(p);
                        }
                        if (ctx.isRequest()) {
                            ctx.reply(Codecs.BYTES, v); // copied now; the view is then messed with
                        }
                        mess(v);
                        handled.incrementAndGet();
                    }));
            ReplyCollector collector = new ReplyCollector(rp.peerIn);
            if (held) {
                rp.backUp();
            } else {
                collector.start(loop);
            }
            List<CompletableFuture<Void>> listeners = new ArrayList<>();
            ByteArrayOutputStream chunk = new ByteArrayOutputStream();
            Map<Integer, byte[]> peerRequests = new HashMap<>();
            if (held) {
                byte[] first = body(3, 999);
                frame(chunk, Codecs.BYTES, Frames.FLAG_REQUEST, 5000, first); // held: everything after it is held too
                expectedByHandler.add(first);
                peerRequests.put(5000, first);
            }
            for (int k = 0; k < SIZES.length; k++) {
                int n = SIZES[k];
                byte[] reply = body(n, 3 * k);
                byte[] message = body(n, 3 * k + 1);
                byte[] request = body(n, 3 * k + 2);
                CompletableFuture<Void> told = new CompletableFuture<>();
                listeners.add(told);
                String who = "listener " + k + " (" + n + " bytes)";
                rp.ch.request(Codecs.BYTES, new byte[] {1}, ByteBuffer.class, null, (v, e) -> {
                    String p = e != null ? who + ": " + e : check(v, reply, who);
                    if (p != null) {
                        problems.add(p);
                    }
                    if (v != null) {
                        mess(v);
                    }
                    told.complete(null);
                });
                frame(chunk, Codecs.BYTES, Frames.FLAG_REPLY, k + 1, reply); // our requests are ids 1, 2, ...
                frame(chunk, Codecs.BYTES, 0, 0, message);
                expectedByHandler.add(message);
                frame(chunk, Codecs.BYTES, Frames.FLAG_REQUEST, 1000 + k, request);
                expectedByHandler.add(request);
                peerRequests.put(1000 + k, request);
            }
            barrier(loop);
            rp.peerOut.write(ByteBuffer.wrap(chunk.toByteArray())).get(20, TimeUnit.SECONDS);
            if (held) {
                barrier(loop);
                assertEquals(0, handled.get(), "held mode: nothing may be dispatched while our output is backed up");
                collector.start(loop);
            }
            for (CompletableFuture<Void> f : listeners) {
                f.get(20, TimeUnit.SECONDS);
            }
            spinUntil(() -> expectedByHandler.isEmpty(), "not every frame reached the handler");
            spinUntil(() -> collector.replies().keySet().containsAll(peerRequests.keySet()), "not every request was answered");
            Map<Integer, byte[]> replies = collector.replies();
            for (Map.Entry<Integer, byte[]> e : peerRequests.entrySet()) {
                assertArrayEquals(e.getValue(), replies.get(e.getKey()), (held ? "held" : "direct") + ": reply to " + e.getKey());
            }
            assertTrue(problems.isEmpty(), (held ? "held: " : "direct: ") + problems);
            rp.ch.close();
            rp.peerIn.close();
            rp.peerOut.close();
        }
    }

    /**
     * Inside its call a raw handler (for a message of a size the channel's replies also have) sends
     * its view on, requests with it (listener and future, the replies the same size, so they will be
     * lent through the same view), defers and answers with it, hands it to another thread to read
     * and waits, and last closes the channel gracefully: after each step its view is still its body,
     * position and limit unmoved. The nested replies arrive intact. The same for a listener inside
     * onReply, which ends with close().
     */
    @Test
    @Timeout(60)
    void aViewStaysIntactThroughReentrantCallsInsideItsCallback() throws Exception {
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            List<String> problems = new CopyOnWriteArrayList<>();
            List<CompletableFuture<?>> nested = new CopyOnWriteArrayList<>();
            int n = 54;
            int rounds = 6;
            CompletableFuture<Void> lastHandled = new CompletableFuture<>();
            byte closingSeed = body(n, rounds)[0];
            MessageHandler<ByteBuffer> reentrant = (ctx, v) -> {
                MessageChannel a = ctx.channel();
                byte[] mine = new byte[v.remaining()];
                v.get(0, mine);
                int seed = mine.length == 0 ? -1 : mine[0];
                List<Runnable> steps = new ArrayList<>();
                steps.add(() -> a.send(Codecs.BYTES, v));
                steps.add(() -> {
                    CompletableFuture<Void> f = new CompletableFuture<>();
                    nested.add(f);
                    a.request(Codecs.BYTES, v, ByteBuffer.class, null, (r, e) -> {
                        // Refused or failed by the final close: told, and that is all that is asked of it.
                        String p = e != null ? (e instanceof io.dualpipe.core.ChannelClosedException ? null : "nested listener: " + e)
                                : check(r, mine, "nested listener of " + seed);
                        if (p != null) {
                            problems.add(p);
                        }
                        if (r != null) {
                            mess(r);
                        }
                        f.complete(null);
                    });
                });
                steps.add(() -> {
                    LoopFuture<ByteBuffer> f = a.request(Codecs.BYTES, v, ByteBuffer.class, null);
                    nested.add(f.thenAccept(copy -> {
                        byte[] got = new byte[copy.remaining()];
                        copy.get(got);
                        if (!Arrays.equals(mine, got)) {
                            problems.add("nested future of " + seed + ": wrong bytes");
                        }
                    }).toCompletableFuture());
                });
                if (ctx.isRequest()) {
                    steps.add(() -> nested.add(ctx.defer().reply(Codecs.BYTES, v).toCompletableFuture()));
                }
                steps.add(() -> {
                    try {
                        byte[] seen = other.submit(() -> {
                            byte[] c = new byte[v.capacity()];
                            v.get(0, c);
                            return c;
                        }).get(20, TimeUnit.SECONDS);
                        if (!Arrays.equals(mine, seen)) {
                            problems.add("another thread read wrong bytes from the view of " + seed);
                        }
                    } catch (Exception e) {
                        problems.add("another thread: " + e);
                    }
                });
                if (seed == closingSeed) {
                    steps.add(a::closeGracefully);
                }
                int step = 0;
                for (Runnable s : steps) {
                    s.run();
                    step++;
                    byte[] now = new byte[v.capacity()];
                    v.get(0, now);
                    if (v.position() != 0 || v.limit() != mine.length || !Arrays.equals(mine, now)) {
                        problems.add("handler view of " + seed + " changed after step " + step + ": " + v);
                    }
                }
                if (seed == closingSeed) {
                    lastHandled.complete(null);
                }
            };
            Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()).handle(Codecs.BYTES, ByteBuffer.class, reentrant),
                    echoingPeer());
            for (int r = 0; r < rounds; r++) {
                byte[] b = body(n, r);
                if (r % 2 == 0) {
                    p.b.send(Codecs.BYTES, b);
                } else {
                    nested.add(p.b.request(Codecs.BYTES, b, byte[].class, null)
                            .thenAccept(got -> {
                                if (!Arrays.equals(b, got)) {
                                    problems.add("deferred reply with the view: wrong bytes");
                                }
                            }).toCompletableFuture());
                }
            }
            spinUntil(() -> nested.size() >= rounds * 2 + (rounds / 2) * 2, "the handler did not run for every round");
            for (CompletableFuture<?> f : nested) {
                f.get(20, TimeUnit.SECONDS); // every nested reply arrived before the close
            }
            p.b.send(Codecs.BYTES, body(n, rounds)); // the last: its handler closes the channel gracefully
            lastHandled.get(20, TimeUnit.SECONDS);
            p.a.closeFuture().get(20, TimeUnit.SECONDS);
            for (CompletableFuture<?> f : nested) {
                f.handle((v, e) -> null).get(20, TimeUnit.SECONDS); // told, either way (the close may refuse the last)
            }
            assertTrue(problems.isEmpty(), problems.toString());

            // The listener form: onReply does the same, ending with close().
            List<String> listenerProblems = new CopyOnWriteArrayList<>();
            Pipes q = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), echoingPeer());
            CompletableFuture<Void> done = new CompletableFuture<>();
            byte[] mine = body(n, 77);
            q.a.request(Codecs.BYTES, mine, ByteBuffer.class, null, (v, e) -> {
                try {
                    String bad = check(v, mine, "outer listener");
                    if (bad != null) {
                        listenerProblems.add(bad);
                        return;
                    }
                    Runnable[] steps = {
                        () -> q.a.send(Codecs.BYTES, v),
                        () -> q.a.request(Codecs.BYTES, v, ByteBuffer.class, null, (r, x) -> { }),
                        () -> q.a.request(Codecs.BYTES, body(n, 78), ByteBuffer.class, null),
                        q.a::close,
                    };
                    for (Runnable s : steps) {
                        s.run();
                        byte[] now = new byte[n];
                        v.get(0, now);
                        if (v.position() != 0 || v.limit() != n || !Arrays.equals(mine, now)) {
                            listenerProblems.add("listener view changed: " + v);
                        }
                    }
                } finally {
                    done.complete(null);
                }
            });
            done.get(20, TimeUnit.SECONDS);
            q.a.closeFuture().get(20, TimeUnit.SECONDS);
            assertTrue(listenerProblems.isEmpty(), listenerProblems.toString());
            q.b.close();
            p.b.close();
        } finally {
            other.shutdownNow();
            assertTrue(other.awaitTermination(20, TimeUnit.SECONDS));
        }
    }

    /** The peer: answers a raw request with its body, ignores one-way messages. */
    private static MessageChannelBuilder echoingPeer() {
        return MessageChannel.builder(Pipes.codecs()).handle(Codecs.BYTES, ByteBuffer.class, (ctx, v) -> {
            if (ctx.isRequest()) {
                ctx.reply(Codecs.BYTES, v);
            }
        });
    }

    /**
     * Held frames, then a graceful close from inside the handler of the first of them: the rest are
     * dispatched by the close (dispatchHeld) through the same lender, each intact, and their replies
     * go out before the channel terminates.
     */
    @Test
    @Timeout(60)
    void aGracefulCloseInsideAHeldHandlerLeavesTheRestIntact() throws Exception {
        List<String> problems = new CopyOnWriteArrayList<>();
        ConcurrentLinkedQueue<byte[]> expected = new ConcurrentLinkedQueue<>();
        AtomicInteger calls = new AtomicInteger();
        RawPeer rp = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, v) -> {
                    byte[] want = expected.poll();
                    String p = want == null ? "unexpected frame" : check(v, want, "held #" + calls.get());
                    if (p != null) {
                        problems.add(p);
                    }
                    if (calls.getAndIncrement() == 0) {
                        ctx.channel().closeGracefully();
                        byte[] now = new byte[v.capacity()];
                        v.get(0, now);
                        if (want != null && !Arrays.equals(want, now)) {
                            problems.add("the first view changed inside closeGracefully()");
                        }
                    }
                    if (ctx.isRequest()) {
                        ctx.reply(Codecs.BYTES, v);
                    }
                    mess(v);
                }));
        rp.backUp();
        ByteArrayOutputStream chunk = new ByteArrayOutputStream();
        Map<Integer, byte[]> requests = new HashMap<>();
        for (int k = 0; k < 12; k++) {
            byte[] b = body(k % 3 == 2 ? 4096 : 54, k);
            int id = 100 + k;
            frame(chunk, Codecs.BYTES, k % 2 == 0 ? Frames.FLAG_REQUEST : 0, k % 2 == 0 ? id : 0, b);
            expected.add(b);
            if (k % 2 == 0) {
                requests.put(id, b);
            }
        }
        rp.peerOut.write(ByteBuffer.wrap(chunk.toByteArray())).get(20, TimeUnit.SECONDS);
        barrier(loop);
        ReplyCollector collector = new ReplyCollector(rp.peerIn);
        collector.start(loop);
        rp.ch.closeFuture().get(20, TimeUnit.SECONDS);
        assertTrue(expected.isEmpty(), expected.size() + " held frames never dispatched");
        spinUntil(() -> collector.replies().keySet().containsAll(requests.keySet()), "not every held request was answered");
        Map<Integer, byte[]> replies = collector.replies();
        for (Map.Entry<Integer, byte[]> e : requests.entrySet()) {
            assertArrayEquals(e.getValue(), replies.get(e.getKey()), "reply to " + e.getKey());
        }
        assertTrue(problems.isEmpty(), problems.toString());
        rp.peerIn.close();
        rp.peerOut.close();
    }
}
