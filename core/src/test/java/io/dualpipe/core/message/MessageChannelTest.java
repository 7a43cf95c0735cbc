package io.dualpipe.core.message;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.ProtocolException;
import io.dualpipe.core.codec.UnknownTypeException;
import io.dualpipe.core.message.Pipes.Order;
import io.dualpipe.core.message.Pipes.StringTableCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageChannelTest {
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("message-test");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private static <T> T await(java.util.concurrent.Future<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static Throwable failure(java.util.concurrent.Future<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    /** b echoes every request back as its reply, whatever the type. */
    private Pipes echoPair(List<DualPipeException> bErrors) {
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handleAny((ctx, msg) -> ctx.reply(ctx.type(), msg))
                .onError((ch, e) -> bErrors.add(e));
        return new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
    }

    /**
     * A requester whose own requests fill the pipe must keep reading the replies that let the peer
     * drain it: it used to stop reading whenever it was not writable, while the echoing peer, its
     * replies unread, stopped reading the requests. Both waited for good.
     */
    @Test
    @Timeout(60)
    void aRequesterWhoseRequestsFillThePipeStillReadsTheReplies() throws Exception {
        List<DualPipeException> bErrors = new java.util.concurrent.CopyOnWriteArrayList<>();
        Pipes p = echoPair(bErrors);
        List<LoopFuture<Object>> replies = new java.util.ArrayList<>();
        byte[] body = new byte[256 * 1024];
        for (int i = 0; i < 32; i++) {
            body[0] = (byte) i;
            replies.add(p.a.request(io.dualpipe.core.codec.Codecs.BYTES, body.clone(), Object.class, null));
        }
        for (int i = 0; i < 32; i++) {
            byte[] r = (byte[]) replies.get(i).get(30, TimeUnit.SECONDS);
            assertEquals(body.length, r.length);
            assertEquals((byte) i, r[0]);
        }
        assertTrue(bErrors.isEmpty(), bErrors.toString());
    }

    @Test
    @Timeout(20)
    void codecsRoundTrip() throws Exception {
        Pipes p = echoPair(new CopyOnWriteArrayList<>());
        assertArrayEquals(new byte[] {1, 2, 3}, await(p.a.request(new byte[] {1, 2, 3}, byte[].class)));
        assertEquals("héllo ✓", await(p.a.request("héllo ✓", String.class)));
        assertEquals(Map.of("a", List.of(1, 2), "b", true), await(p.a.request(Map.of("a", List.of(1, 2), "b", true))));
        assertEquals(new Order("tea", 3), await(p.a.request(new Order("tea", 3), Order.class)));
        // empty bodies frame fine
        assertArrayEquals(new byte[0], await(p.a.request(new byte[0], byte[].class)));
        assertEquals("", await(p.a.request("", String.class)));
    }

    @Test
    @Timeout(20)
    void customCodecAsInTheOriginal() throws Exception {
        List<DualPipeException> errors = new CopyOnWriteArrayList<>();
        LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecsWithTable())
                .handle(StringTableCodec.TYPE, String.class, (ctx, s) -> {
                    got.add(s);
                    if (ctx.isRequest()) {
                        ctx.reply(StringTableCodec.TYPE, "Goodbye");
                    }
                })
                .onError((ch, e) -> errors.add(e));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecsWithTable()), b);
        await(p.a.send(StringTableCodec.TYPE, "Hello World"));
        assertEquals("Hello World", got.poll(10, TimeUnit.SECONDS));
        assertEquals("Goodbye", await(p.a.request(StringTableCodec.TYPE, "Hello World", String.class, null)));
        assertEquals("Hello World", got.poll(10, TimeUnit.SECONDS));
        // the table cannot encode a string it lacks: the send fails, typed, and nothing is written
        Throwable e = failure(p.a.send(StringTableCodec.TYPE, "Hello Moon"));
        assertInstanceOf(EncodeException.class, e);
        assertEquals(StringTableCodec.TYPE, ((EncodeException) e).type());
        // a body the table does not know reaches b's error path; the next message still works
        await(p.bInRawWriter.write(frame(StringTableCodec.TYPE, 0, 0, new byte[] {'?'})));
        await(p.a.send(StringTableCodec.TYPE, "Goodbye"));
        assertEquals("Goodbye", got.poll(10, TimeUnit.SECONDS));
        assertEquals(1, errors.size(), errors.toString());
        assertInstanceOf(DecodeException.class, errors.get(0));
        // String alone is ambiguous with two String codecs: refused, typed, naming both
        Throwable ambiguous = failure(p.a.send("which codec?"));
        assertTrue(ambiguous.getMessage().contains("utf8") && ambiguous.getMessage().contains("string-table"), ambiguous.getMessage());
    }

    @Test
    @Timeout(20)
    void theCallerMayReuseItsArrayOnceSendReturns() throws Exception {
        LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs()).handle(Codecs.BYTES, byte[].class, (ctx, m) -> got.add(m));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        for (int size : new int[] {3, 2048, 2049, 100_000}) {
            byte[] data = new byte[size];
            java.util.Arrays.fill(data, (byte) 1);
            p.bIn.pause(); // nothing is read until the array has been overwritten
            LoopFuture<Void> sent = p.a.send(data);
            java.util.Arrays.fill(data, (byte) 2);
            p.bIn.resume();
            await(sent);
            byte[] received = got.poll(10, TimeUnit.SECONDS);
            assertEquals(size, received.length);
            for (byte x : received) {
                assertEquals(1, x, "size " + size + ": the frame saw a change made after send returned");
            }
        }
    }

    @Test
    @Timeout(20)
    void perTypeHandlersAndOneWayMessages() throws Exception {
        LinkedBlockingQueue<Object> got = new LinkedBlockingQueue<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Pipes.ORDER, Order.class, (ctx, order) -> {
                    assertFalse(ctx.isRequest());
                    assertEquals(0, ctx.requestId());
                    got.add(order);
                })
                .handle(Codecs.UTF8, String.class, (ctx, s) -> got.add("text:" + s))
                .handle(Codecs.JSON, Map.class, (ctx, m) -> got.add(m));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        await(p.a.send(new Order("milk", 2)));
        await(p.a.send("x"));
        await(p.a.send(Codecs.JSON, Map.of("k", "v")));
        assertEquals(new Order("milk", 2), got.poll(10, TimeUnit.SECONDS));
        assertEquals("text:x", got.poll(10, TimeUnit.SECONDS));
        assertEquals(Map.of("k", "v"), got.poll(10, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(20)
    void encodeErrorFailsTheSendAndTheChannelStaysUsable() throws Exception {
        Pipes p = echoPair(new CopyOnWriteArrayList<>());
        Throwable e = failure(p.a.send(Map.of("x", new Object()))); // Jackson has no serializer for a bare Object
        assertInstanceOf(EncodeException.class, e);
        assertTrue(e.getMessage().contains("json"), e.getMessage());
        assertInstanceOf(EncodeException.class, failure(p.a.request("\uD800 lone surrogate")));
        assertInstanceOf(io.dualpipe.core.InvalidArgumentException.class, failure(p.a.send(null)));
        assertInstanceOf(UnknownTypeException.class, failure(p.a.send(0x77, "x")));
        assertEquals("still fine", await(p.a.request("still fine", String.class)));
    }

    @Test
    @Timeout(20)
    void decodeErrorAndUnknownTypeGoToTheErrorPathAndTheNextMessageWorks() throws Exception {
        List<DualPipeException> errors = new CopyOnWriteArrayList<>();
        Pipes p = echoPair(errors);
        // a sends raw frames b cannot decode: malformed UTF-8, then a type b has no codec for.
        byte[] badUtf8 = frame(Codecs.UTF8, 0x01, 7, new byte[] {(byte) 0xC3, 0x28});
        byte[] unknownType = frame(0x77, 0x00, 0, new byte[] {1, 2});
        byte[] badJsonOneWay = frame(Codecs.JSON, 0x00, 0, "{oops".getBytes(StandardCharsets.UTF_8));
        await(p.bInRawWriter.write(concat(badUtf8, unknownType, badJsonOneWay)));
        assertEquals("next", await(p.a.request("next", String.class)));
        assertEquals(3, errors.size(), errors.toString());
        assertInstanceOf(DecodeException.class, errors.get(0));
        assertInstanceOf(UnknownTypeException.class, errors.get(1));
        assertInstanceOf(DecodeException.class, errors.get(2));
        assertTrue(p.b.isOpen());
    }

    @Test
    @Timeout(20)
    void undecodableRequestIsAnsweredWithAnErrorReply() throws Exception {
        List<DualPipeException> errors = new CopyOnWriteArrayList<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecsWithTable())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(Codecs.UTF8, s))
                .onError((ch, e) -> errors.add(e));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecsWithTable()), b);
        // the string table codec exists on both sides, but b has no handler for it
        Throwable e = failure(p.a.request(StringTableCodec.TYPE, "Goodbye", Object.class, null));
        assertInstanceOf(RemoteException.class, e);
        assertTrue(((RemoteException) e).remoteText().contains("no handler for message type 0x53"), e.getMessage());
        assertInstanceOf(NoHandlerException.class, errors.get(0));
        assertEquals("ok", await(p.a.request(Codecs.UTF8, "ok", String.class, null)));
    }

    @Test
    @Timeout(20)
    void handlerFailuresBecomeErrorRepliesWithoutClosing() throws Exception {
        List<DualPipeException> errors = new CopyOnWriteArrayList<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    switch (s) {
                        case "throw" -> throw new IllegalStateException("boom");
                        case "silent" -> { }
                        case "refuse" -> ctx.replyError("no such op: " + s);
                        case "twice" -> {
                            ctx.reply("first");
                            ctx.reply("second");
                        }
                        default -> ctx.reply(s);
                    }
                })
                .onError((ch, e) -> errors.add(e));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        RemoteException thrown = (RemoteException) failure(p.a.request("throw"));
        assertTrue(thrown.remoteText().contains("boom"), thrown.remoteText());
        assertInstanceOf(RemoteException.class, failure(p.a.request("silent")));
        assertEquals("no such op: refuse", ((RemoteException) failure(p.a.request("refuse"))).remoteText());
        assertEquals("first", await(p.a.request("twice")));
        assertEquals("alive", await(p.a.request("alive")));
        assertEquals(2, errors.size(), errors.toString());
        assertInstanceOf(HandlerException.class, errors.get(0));
        assertInstanceOf(ReplyStateException.class, errors.get(1).getCause());
    }

    @Test
    @Timeout(20)
    void deferredRepliesMayComeOutOfOrderAndFromOtherThreads() throws Exception {
        List<DeferredReply> parked = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> allParked = new CompletableFuture<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    parked.add(ctx.defer());
                    if (parked.size() == 3) {
                        allParked.complete(null);
                    }
                });
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        LoopFuture<Object> r1 = p.a.request("1");
        LoopFuture<Object> r2 = p.a.request("2");
        LoopFuture<Object> r3 = p.a.request("3");
        await(allParked);
        assertEquals(3, p.a.pendingRequests());
        // answer in reverse, from this (non-loop) thread
        await(parked.get(2).reply("three"));
        await(parked.get(1).replyError("two failed"));
        await(parked.get(0).reply(42L));
        assertInstanceOf(ReplyStateException.class, failure(parked.get(0).reply("again")));
        assertEquals("three", await(r3));
        assertEquals("two failed", ((RemoteException) failure(r2)).remoteText());
        assertEquals(42, ((Number) await(r1)).intValue());
        assertEquals(0, p.a.pendingRequests());
    }

    @Test
    @Timeout(20)
    void contextIsBorrowedAndRepliesToOneWayMessagesAreRefused() throws Exception {
        CompletableFuture<MessageContext> kept = new CompletableFuture<>();
        CompletableFuture<Throwable> oneWay = new CompletableFuture<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (!ctx.isRequest()) {
                        try {
                            ctx.reply("x");
                        } catch (ReplyStateException e) {
                            oneWay.complete(e);
                        }
                        return;
                    }
                    kept.complete(ctx);
                    ctx.reply(s);
                });
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        p.a.send("one-way");
        assertTrue(await(oneWay).getMessage().contains("one-way"), () -> oneWay.join().getMessage());
        assertEquals("r", await(p.a.request("r")));
        MessageContext ctx = await(kept);
        ReplyStateException late = assertThrows(ReplyStateException.class, () -> ctx.reply("late"));
        assertTrue(late.getMessage().contains("after the handler returned"), late.getMessage());
    }

    @Test
    @Timeout(20)
    void typedRequestsCheckTheReplyClass() throws Exception {
        Pipes p = echoPair(new CopyOnWriteArrayList<>());
        Throwable e = failure(p.a.request("text", Integer.class));
        assertInstanceOf(ReplyTypeException.class, e);
        assertTrue(e.getMessage().contains("java.lang.String") && e.getMessage().contains("java.lang.Integer"), e.getMessage());
        assertEquals(7, await(p.a.request(Codecs.JSON, 7, int.class, null)));
    }

    @Test
    @Timeout(20)
    void requestTimeoutForgetsTheRequest() throws Exception {
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (ctx.isRequest()) {
                        ctx.defer(); // never answered
                    }
                }); // never answered
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        Throwable e = failure(p.a.request("x", String.class, Duration.ofMillis(50)));
        assertInstanceOf(RequestTimeoutException.class, e);
        assertEquals(0, p.a.pendingRequests());
        LoopFuture<Object> cancelled = p.a.request("y");
        assertTrue(cancelled.cancel(false));
        // The request table belongs to the loop: the cancellation reaches it as a task, so wait for
        // the loop to have run the tasks queued before this one.
        java.util.concurrent.CompletableFuture<Integer> seen = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> seen.complete(p.a.pendingRequests()));
        assertEquals(0, await(seen));
    }

    @Test
    @Timeout(20)
    void closeFailsPendingRequestsAndThePeerSeesTheEnd() throws Exception {
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (ctx.isRequest()) {
                        ctx.defer(); // never answered
                    }
                });
        MessageChannelBuilder a = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, bytes) -> ctx.defer()); // never answered
        Pipes p = new Pipes(loop, a, b);
        LoopFuture<Object> pending = p.a.request("never");
        // b sends a request to a, which a will never answer: closing a must fail it at b
        LoopFuture<Object> bPending = p.b.request(new byte[] {1});
        await(p.a.send("sync")); // a's request is in the pipe
        p.a.close();
        assertInstanceOf(ChannelClosedException.class, failure(pending));
        assertInstanceOf(ChannelClosedException.class, failure(p.a.send("after close")));
        await(p.a.closeFuture());
        assertInstanceOf(ChannelClosedException.class, failure(bPending));
        await(p.b.closeFuture()); // b saw the end of its input and closed itself
        assertFalse(p.b.isOpen());
    }

    @Test
    @Timeout(20)
    void loopCloseFailsPendingRequestsWithLoopClosed() throws Exception {
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (ctx.isRequest()) {
                        ctx.defer(); // never answered
                    }
                });
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        LoopFuture<Object> pending = p.a.request("never");
        await(p.a.send("sync"));
        loop.close();
        assertInstanceOf(LoopClosedException.class, failure(pending));
        assertInstanceOf(LoopClosedException.class, failure(p.a.closeFuture()));
    }

    @Test
    @Timeout(20)
    void corruptHeaderClosesTheChannelWithAProtocolError() throws Exception {
        List<DualPipeException> errors = new CopyOnWriteArrayList<>();
        Pipes p = echoPair(errors);
        LoopFuture<Object> pendingAtB = p.b.request("b asks"); // a has no handler: answered with an error, or failed by the close
        byte[] huge = {0x01, 0x00, 0, 0, 0, 0, (byte) 0x80, 0, 0, 0}; // length 2 GiB
        p.bInRawWriter.write(huge);
        Throwable e = failure(p.b.closeFuture());
        assertInstanceOf(ProtocolException.class, e);
        assertTrue(e.getMessage().contains("2147483648 > maxFrameSize 16777216"), e.getMessage());
        assertTrue(pendingAtB.isDone());
        assertTrue(errors.isEmpty(), errors.toString()); // protocol errors close; they are not per-message errors
    }

    @Test
    @Timeout(20)
    void unknownFlagBitsAndTruncationAreProtocolErrors() throws Exception {
        Pipes p1 = echoPair(new CopyOnWriteArrayList<>());
        p1.bInRawWriter.write(frame(Codecs.UTF8, 0x08, 0, new byte[0]));
        assertTrue(failure(p1.b.closeFuture()).getMessage().contains("unknown bits 0x08"));

        Pipes p2 = echoPair(new CopyOnWriteArrayList<>());
        byte[] whole = frame(Codecs.UTF8, 0x00, 0, "truncated".getBytes(StandardCharsets.UTF_8));
        p2.bInRawWriter.write(ByteBuffer.wrap(whole, 0, whole.length - 3));
        p2.bInRawWriter.shutdownOutput();
        Throwable e = failure(p2.b.closeFuture());
        assertInstanceOf(ProtocolException.class, e);
        assertTrue(e.getMessage().contains("truncated frame"), e.getMessage());
    }

    @Test
    @Timeout(20)
    void aBurstSentOnTheLoopIsOneWrite() throws Exception {
        LinkedBlockingQueue<String> got = new LinkedBlockingQueue<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> got.add(s));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        int before = p.aOut.writes.get();
        List<LoopFuture<Void>> sends = new ArrayList<>();
        CompletableFuture<Void> queued = new CompletableFuture<>();
        loop.execute(() -> {
            for (int i = 0; i < 100; i++) {
                sends.add(p.a.send("m" + i));
            }
            queued.complete(null);
        });
        await(queued);
        for (LoopFuture<Void> f : sends) {
            await(f);
        }
        for (int i = 0; i < 100; i++) {
            assertEquals("m" + i, got.poll(10, TimeUnit.SECONDS));
        }
        assertEquals(1, p.aOut.writes.get() - before, "100 small frames sent in one loop task cost one write");
    }

    @Test
    @Timeout(20)
    void repliesToABurstOfRequestsAreCoalesced() throws Exception {
        MessageChannelBuilder a = MessageChannel.builder(Pipes.codecs());
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs()).handleAny((ctx, m) -> ctx.reply(ctx.type(), m));
        Pipes p = new Pipes(loop, a, b);
        // a's requests all go out in one write; b answers them from one chunk of input: few writes back
        List<LoopFuture<Object>> replies = new ArrayList<>();
        CompletableFuture<Void> sent = new CompletableFuture<>();
        loop.execute(() -> {
            for (int i = 0; i < 200; i++) {
                replies.add(p.a.request("r" + i));
            }
            sent.complete(null);
        });
        await(sent);
        for (int i = 0; i < 200; i++) {
            assertEquals("r" + i, await(replies.get(i)));
        }
        assertEquals(1, p.aOut.writes.get());
    }

    @Test
    @Timeout(30)
    void backpressureFollowsThePeerAndLargeBodiesArriveIntact() throws Exception {
        LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, byte[].class, (ctx, bytes) -> got.add(bytes));
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
        p.bIn.pause(); // b stops reading: the pipe fills, then a's queue
        byte[] big = new byte[1024 * 1024];
        new java.util.Random(3).nextBytes(big);
        List<LoopFuture<Void>> sends = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            sends.add(p.a.send(big));
        }
        assertFalse(p.a.isWritable());
        assertTrue(p.a.queuedBytes() > 64 * 1024);
        LoopFuture<Void> writable = p.a.whenWritable();
        assertFalse(writable.isDone());
        p.bIn.resume();
        await(writable);
        for (LoopFuture<Void> f : sends) {
            await(f);
        }
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(big, got.poll(10, TimeUnit.SECONDS));
        }
        assertTrue(p.a.isWritable());
        assertEquals(0, p.a.queuedBytes());
    }

    static byte[] frame(int type, int flags, int id, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(10 + body.length);
        b.put((byte) type).put((byte) flags).putInt(id).putInt(body.length).put(body);
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }
}
