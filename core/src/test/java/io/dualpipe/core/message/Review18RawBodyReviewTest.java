package io.dualpipe.core.message;

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

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static io.dualpipe.core.message.Review18Support.onLoop;
import static io.dualpipe.core.message.Review18Support.pattern;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review of a3e3fce (raw ByteBuffer bodies): borrowed views are the body and stay intact for the
 * call, raw messages are copied before the call returns and keep the caller's position. Real pipes.
 */
class Review18RawBodyReviewTest {
    private static final int[] SIZES = {0, 1, 2047, 2048, 2049, 65_535, 65_536, 65_537, 131_077, 300_000};

    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("review18-raw");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private Pipes rawEchoPair() {
        return new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> ctx.reply(Codecs.BYTES, body)));
    }

    /** A raw handler echoing its body, for frames in one chunk, spanning chunks, and > 64 KiB: exact bytes. */
    @Test
    @Timeout(60)
    void rawHandlerEchoesEverySizeToAByteBufferListenerIntact() throws Exception {
        Pipes p = rawEchoPair();
        for (int size : SIZES) {
            byte[] data = pattern(size, size);
            Outcome<ByteBuffer> o = new Outcome<>();
            p.a.request(Codecs.BYTES, data, ByteBuffer.class, null, o);
            assertArrayEquals(data, (byte[]) o.get(), "size " + size);
            assertTrue(o.readOnly, "size " + size);
            LoopFuture<ByteBuffer> f = p.a.request(Codecs.BYTES, ByteBuffer.wrap(data), ByteBuffer.class, null);
            ByteBuffer copy = f.get(20, TimeUnit.SECONDS);
            byte[] got = new byte[copy.remaining()];
            copy.get(got);
            assertArrayEquals(data, got, "future, size " + size);
        }
    }

    /**
     * A listener that, inside onReply, makes further requests (one carrying its own view as the body)
     * and sends a large message, then reads its view: still its reply's bytes, position unmoved.
     */
    @Test
    @Timeout(60)
    void aViewStaysIntactWhileTheListenerRequestsAndSendsInsideOnReply() throws Exception {
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> {
                    if (ctx.isRequest()) {
                        ctx.reply(Codecs.BYTES, body);
                    }
                }));
        for (int size : SIZES) {
            byte[] data = pattern(size, 3);
            CompletableFuture<String> verdict = new CompletableFuture<>();
            Outcome<ByteBuffer> inner = new Outcome<>();
            p.a.request(Codecs.BYTES, data, ByteBuffer.class, null, (view, e) -> {
                try {
                    assertNotNull(view, String.valueOf(e));
                    int pos = view.position();
                    int lim = view.limit();
                    p.a.request(Codecs.BYTES, view, ByteBuffer.class, null, inner);
                    p.a.request(Codecs.BYTES, pattern(5_000, 9), byte[].class, null, (r, x) -> { });
                    p.a.send(Codecs.BYTES, new byte[200_000]);
                    assertEquals(pos, view.position(), "size " + size);
                    assertEquals(lim, view.limit(), "size " + size);
                    byte[] now = new byte[view.remaining()];
                    view.get(view.position(), now);
                    verdict.complete(Arrays.equals(data, now) ? "ok" : "view changed inside onReply, size " + size);
                } catch (Throwable t) {
                    verdict.complete(t.toString());
                }
            });
            assertEquals("ok", verdict.get(20, TimeUnit.SECONDS));
            assertArrayEquals(data, (byte[]) inner.get(), "the view sent on, size " + size);
        }
    }

    /**
     * Raw messages (send, request, a handler's reply, a deferred reply) from heap, direct, read-only
     * and sliced buffers, on and off the loop: the caller's position and limit stay, and overwriting
     * the buffer as soon as the call returns changes nothing the peer gets.
     */
    @Test
    @Timeout(60)
    void rawMessagesAreCopiedBeforeTheCallReturnsFromEveryKindOfBuffer() throws Exception {
        LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        ByteBuffer scratch = ByteBuffer.allocateDirect(300_000); // the handler's reusable reply buffer
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> {
                    if (!ctx.isRequest()) {
                        received.add(b);
                        return;
                    }
                    scratch.clear().put(b).flip();
                    if (b.length % 2 == 0) {
                        ctx.reply(Codecs.BYTES, scratch);
                    } else {
                        DeferredReply d = ctx.defer();
                        d.reply(Codecs.BYTES, scratch);
                    }
                    scratch.clear();
                    while (scratch.hasRemaining()) {
                        scratch.put((byte) 0x55); // reused at once
                    }
                }));
        List<IntFunction<ByteBuffer[]>> kinds = List.of(
                n -> { ByteBuffer b = ByteBuffer.allocate(n + 7); b.position(7); return new ByteBuffer[] {b, b}; },
                n -> { ByteBuffer b = ByteBuffer.allocateDirect(n + 7); b.position(7); return new ByteBuffer[] {b, b}; },
                n -> { ByteBuffer b = ByteBuffer.allocate(n + 7); b.position(7); return new ByteBuffer[] {b.asReadOnlyBuffer(), b}; },
                n -> { ByteBuffer b = ByteBuffer.allocateDirect(n + 20); b.position(5); ByteBuffer s = b.slice(); s.position(2);
                       return new ByteBuffer[] {s, s}; });
        for (boolean fromLoop : new boolean[] {false, true}) {
            for (int size : new int[] {0, 3, 2048, 2049, 70_001}) {
                for (IntFunction<ByteBuffer[]> kind : kinds) {
                    byte[] data = pattern(size, size + 1);
                    ByteBuffer[] bufs = kind.apply(size);
                    ByteBuffer msg = bufs[0];
                    ByteBuffer backing = bufs[1];
                    int at = backing.position();
                    backing.put(at, data);
                    msg.limit(msg.position() + size);
                    int pos = msg.position();
                    int lim = msg.limit();
                    Outcome<byte[]> reply = new Outcome<>();
                    Runnable call = () -> {
                        p.a.send(Codecs.BYTES, msg);
                        p.a.request(Codecs.BYTES, msg, byte[].class, null, reply);
                        String moved = msg.position() != pos || msg.limit() != lim ? "moved" : null;
                        backing.put(at, new byte[size]); // the caller reuses its buffer at once
                        if (moved != null) {
                            throw new AssertionError("the caller's buffer " + moved);
                        }
                    };
                    if (fromLoop) {
                        onLoop(loop, () -> {
                            call.run();
                            return null;
                        });
                    } else {
                        call.run();
                    }
                    String what = (fromLoop ? "on loop, " : "off loop, ") + msg + ", size " + size;
                    assertArrayEquals(data, received.poll(20, TimeUnit.SECONDS), "send " + what);
                    assertArrayEquals(data, (byte[]) reply.get(), "request and the handler's reply, " + what);
                }
            }
        }
    }

    /**
     * The spec: a borrowed body is "a read-only view". Dispatched at once it is; held behind a peer
     * request while our output was backed up, the listener's ByteBuffer reply and the raw handler's
     * body are plain writable heap buffers (Backlog.Held.bodyBuffer() wraps the copy).
     */
    @Test
    @Timeout(60)
    void heldBodiesAreReadOnlyViews() throws Exception {
        CompletableFuture<Boolean> handlerSawReadOnly = new CompletableFuture<>();
        RawPeer p = new RawPeer(loop, MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> {
                    handlerSawReadOnly.complete(body.isReadOnly());
                    ctx.reply(Codecs.BYTES, body);
                }));
        p.backUp();
        Outcome<ByteBuffer> r = new Outcome<>();
        p.ch.request(Codecs.BYTES, new byte[] {1}, ByteBuffer.class, null, r);
        p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2}); // held
        p.write(Codecs.BYTES, Frames.FLAG_REPLY, 1, new byte[] {3, 4}); // held behind it
        p.readAll(loop);
        assertArrayEquals(new byte[] {3, 4}, (byte[]) r.get());
        boolean handlerReadOnly = handlerSawReadOnly.get(20, TimeUnit.SECONDS);
        assertAll(() -> assertTrue(handlerReadOnly, "a held request's raw body is writable"),
                () -> assertTrue(r.readOnly, "a held reply's ByteBuffer view is writable"));
    }

    /**
     * A borrowed view is bounded only by position and limit: its capacity is the loop's whole shared
     * read buffer. A raw handler (or listener) that does clear(), rewind() or an absolute get(0) reads
     * bytes another connection on the same loop received: here, channel y's "secret" message.
     * A held body, or a future's copy, starts at index 0 and ends at the body's end, so the same code
     * behaves differently by path.
     */
    @Test
    @Timeout(60)
    void aBorrowedViewIsExactlyTheBodyNotTheLoopsSharedBuffer() throws Exception {
        Pipes x = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> {
                    ByteBuffer whole = body.duplicate().clear();
                    int leaked = 0;
                    for (int i = 0; i < whole.limit(); i++) {
                        if (whole.get(i) == (byte) 0x5A) {
                            leaked++;
                        }
                    }
                    ctx.reply(Codecs.BYTES, ByteBuffer.allocate(8).putInt(0, leaked).putInt(4, whole.capacity()));
                }));
        CompletableFuture<Void> got = new CompletableFuture<>();
        Pipes y = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> got.complete(null)));
        byte[] secret = new byte[50_000];
        Arrays.fill(secret, (byte) 0x5A);
        y.a.send(Codecs.BYTES, secret);
        got.get(20, TimeUnit.SECONDS);
        ByteBuffer r = ByteBuffer.wrap(x.a.request(Codecs.BYTES, new byte[] {1, 2, 3, 4}, byte[].class, null).get(20, TimeUnit.SECONDS));
        assertEquals(0, r.getInt(0), "a 4-byte body's view (capacity " + r.getInt(4) + ") let the handler read "
                + r.getInt(0) + " bytes of another connection's message");
    }
}
