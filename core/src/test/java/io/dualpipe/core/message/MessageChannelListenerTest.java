package io.dualpipe.core.message;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.UnknownTypeException;
import io.dualpipe.core.internal.LoopThread;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests told through a {@link ReplyListener} instead of a future, and raw {@link ByteBuffer}
 * bodies (handlers that take them, listeners that ask for them, messages that are one): the
 * allocation-free forms of the message API, over two real pipes.
 */
class MessageChannelListenerTest {
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("listener-test");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    /** What a listener was told, how often, and on which thread. */
    static final class Outcome<R> implements ReplyListener<R> {
        final CompletableFuture<R> result = new CompletableFuture<>();
        final AtomicInteger calls = new AtomicInteger();
        volatile boolean onLoop;
        volatile Thread thread;

        @Override
        public void onReply(R reply, Throwable failure) {
            calls.incrementAndGet();
            thread = Thread.currentThread();
            onLoop = Thread.currentThread() instanceof LoopThread;
            if (failure != null) {
                assertNull(reply);
                result.completeExceptionally(failure);
            } else {
                result.complete(reply);
            }
        }

        R get() throws Exception {
            return result.get(10, TimeUnit.SECONDS);
        }

        Throwable failure() {
            ExecutionException e = assertThrows(ExecutionException.class, () -> result.get(10, TimeUnit.SECONDS));
            return e.getCause();
        }
    }

    private Pipes echoPair() {
        return new Pipes(loop, MessageChannel.builder(Pipes.codecs()),
                MessageChannel.builder(Pipes.codecs()).handleAny((ctx, msg) -> ctx.reply(ctx.type(), msg)));
    }

    /** b answers type-BYTES requests with their body as is, never decoded. */
    private Pipes rawEchoPair() {
        return new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> ctx.reply(Codecs.BYTES, body)));
    }

    private static <T> T onLoop(EventLoop loop, java.util.concurrent.Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(20)
    void aDecodedReplyIsToldOnceOnTheLoop() throws Exception {
        Pipes p = echoPair();
        Outcome<String> o = new Outcome<>();
        p.a.request(Codecs.UTF8, "hello", String.class, null, o);
        assertEquals("hello", o.get());
        assertTrue(o.onLoop, "told on " + o.thread);
        assertEquals(1, o.calls.get());
        assertEquals(0, p.a.pendingRequests());
    }

    @Test
    @Timeout(20)
    void aByteBufferReplyIsTheBodyReadOnlyAndUndecoded() throws Exception {
        Pipes p = echoPair();
        CompletableFuture<byte[]> seen = new CompletableFuture<>();
        p.a.request(Codecs.UTF8, "héllo", ByteBuffer.class, null, (body, e) -> {
            if (e != null) {
                seen.completeExceptionally(e);
                return;
            }
            try {
                assertTrue(body.isReadOnly());
                assertThrows(ReadOnlyBufferException.class, () -> body.put(body.position(), (byte) 0));
                byte[] copy = new byte[body.remaining()];
                body.get(copy);
                seen.complete(copy);
            } catch (Throwable t) {
                seen.completeExceptionally(t);
            }
        });
        assertArrayEquals("héllo".getBytes(StandardCharsets.UTF_8), seen.get(10, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(20)
    void aRawHandlerEchoesBodiesOfEverySizeAndTheCallersBufferKeepsItsPosition() throws Exception {
        Pipes p = rawEchoPair();
        for (int size : new int[] {0, 1, 54, 2048, 2049, 100_000}) {
            byte[] data = new byte[size + 3];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + size);
            }
            ByteBuffer fromCaller = ByteBuffer.wrap(data, 3, size); // a slice of a larger array, position 3
            LoopFuture<byte[]> offLoop = p.a.request(Codecs.BYTES, fromCaller, byte[].class, null);
            assertEquals(3, fromCaller.position(), "off the loop, size " + size);
            byte[] expected = java.util.Arrays.copyOfRange(data, 3, 3 + size);
            assertArrayEquals(expected, offLoop.get(10, TimeUnit.SECONDS), "size " + size);

            ByteBuffer direct = ByteBuffer.allocateDirect(size);
            direct.put(expected).flip();
            LoopFuture<byte[]> fromLoop = onLoop(loop, () -> {
                LoopFuture<byte[]> f = p.a.request(Codecs.BYTES, direct, byte[].class, null);
                assertEquals(0, direct.position(), "on the loop, size " + size);
                return f;
            });
            assertArrayEquals(expected, fromLoop.get(10, TimeUnit.SECONDS), "direct, on the loop, size " + size);
        }
    }

    /**
     * A raw body is lent as exactly the body, whatever its size, and whatever the last callee did to
     * the last view (moved it, changed its byte order): small ones through the view the channel
     * reuses while sizes repeat, large ones as slices.
     */
    @Test
    @Timeout(20)
    void everyRawBodyIsLentExactlyFreshAndBigEndianWhatTheLastCalleeDid() throws Exception {
        List<String> problems = new CopyOnWriteArrayList<>();
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> {
                    int n = body.capacity();
                    if (!body.isReadOnly() || body.position() != 0 || body.limit() != n || body.order() != java.nio.ByteOrder.BIG_ENDIAN) {
                        problems.add("lent " + body + " " + body.order());
                    }
                    for (int i = 0; i < n; i++) {
                        if (body.get(i) != (byte) (n + i)) {
                            problems.add("byte " + i + " of " + n);
                            break;
                        }
                    }
                    ctx.reply(Codecs.BYTES, body);
                    body.order(java.nio.ByteOrder.LITTLE_ENDIAN).position(n); // what a careless handler leaves behind
                }));
        int[] sizes = {8, 8, 8, 3, 3, 0, 8, 5000, 5000, 4096, 4097, 8, 1};
        for (int n : sizes) {
            byte[] body = new byte[n];
            for (int i = 0; i < n; i++) {
                body[i] = (byte) (n + i);
            }
            CompletableFuture<byte[]> copy = new CompletableFuture<>();
            p.a.request(Codecs.BYTES, body, ByteBuffer.class, null, (reply, e) -> {
                if (e != null) {
                    copy.completeExceptionally(e);
                } else if (reply.position() != 0 || reply.capacity() != n || !reply.isReadOnly()) {
                    copy.completeExceptionally(new AssertionError("reply lent as " + reply));
                } else {
                    byte[] c = new byte[n];
                    reply.get(0, c);
                    reply.position(n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    copy.complete(c);
                }
            });
            assertArrayEquals(body, copy.get(10, TimeUnit.SECONDS), "size " + n);
        }
        assertTrue(problems.isEmpty(), problems.toString());
    }

    @Test
    @Timeout(20)
    void aByteBufferThroughAFutureIsACopyThatOutlivesLaterFrames() throws Exception {
        Pipes p = echoPair();
        ByteBuffer first = p.a.request(Codecs.BYTES, new byte[] {1, 2, 3}, ByteBuffer.class, null).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 20; i++) {
            p.a.request(Codecs.BYTES, new byte[] {9, 9, 9, 9}, byte[].class, null).get(10, TimeUnit.SECONDS);
        }
        assertFalse(first.isReadOnly());
        assertEquals(3, first.remaining());
        assertEquals(1, first.get(0));
        assertEquals(3, first.get(2));
    }

    @Test
    @Timeout(20)
    void failuresAreToldTyped() throws Exception {
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    switch (s) {
                        case "fail" -> ctx.replyError("no such thing");
                        case "silent" -> ctx.defer(); // never answered
                        default -> ctx.reply(Codecs.UTF8, s);
                    }
                }));
        Outcome<String> remote = new Outcome<>();
        p.a.request(Codecs.UTF8, "fail", String.class, null, remote);
        assertInstanceOf(RemoteException.class, remote.failure());
        assertTrue(remote.failure().getMessage().contains("no such thing"));

        Outcome<Integer> wrongClass = new Outcome<>();
        p.a.request(Codecs.UTF8, "text", Integer.class, null, wrongClass);
        assertInstanceOf(ReplyTypeException.class, wrongClass.failure());

        Outcome<String> late = new Outcome<>();
        p.a.request(Codecs.UTF8, "silent", String.class, Duration.ofMillis(50), late);
        assertInstanceOf(RequestTimeoutException.class, late.failure());
        assertTrue(late.onLoop);

        for (Outcome<?> o : List.of(remote, wrongClass, late)) {
            assertEquals(1, o.calls.get());
        }
        assertEquals(0, p.a.pendingRequests());
    }

    /** More distinct timeouts than the channel keeps lanes for: the rest get loop timers of their own. */
    @Test
    @Timeout(20)
    void timeoutsBeyondTheLanesUseTimersOfTheirOwnAndAReplyStopsThem() throws Exception {
        List<DeferredReply> deferred = new CopyOnWriteArrayList<>();
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (s.startsWith("answer")) {
                        ctx.reply(Codecs.UTF8, s);
                    } else {
                        deferred.add(ctx.defer());
                    }
                }));
        List<Outcome<String>> timedOut = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Outcome<String> o = new Outcome<>();
            p.a.request(Codecs.UTF8, "silent", String.class, Duration.ofMillis(40 + i), o);
            timedOut.add(o);
        }
        List<Outcome<String>> answered = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Outcome<String> o = new Outcome<>();
            p.a.request(Codecs.UTF8, "answer" + i, String.class, Duration.ofMillis(100 + i), o);
            answered.add(o);
        }
        for (int i = 0; i < 8; i++) {
            assertEquals("answer" + i, answered.get(i).get());
            assertInstanceOf(RequestTimeoutException.class, timedOut.get(i).failure());
        }
        // Answer the timed-out ones now: the late replies are dropped, nobody is told twice.
        for (DeferredReply d : deferred) {
            d.reply(Codecs.UTF8, "too late").get(10, TimeUnit.SECONDS);
        }
        Outcome<String> after = new Outcome<>();
        p.a.request(Codecs.UTF8, "answer-after", String.class, Duration.ofSeconds(5), after);
        assertEquals("answer-after", after.get()); // b answers in order: the late replies were read first
        // A sentinel whose deadline is after every answered request's: once it has timed out, a timer
        // an answer failed to stop would have fired too.
        Outcome<String> sentinel = new Outcome<>();
        p.a.request(Codecs.UTF8, "silent", String.class, Duration.ofMillis(150), sentinel);
        assertInstanceOf(RequestTimeoutException.class, sentinel.failure());
        for (Outcome<String> o : answered) {
            assertEquals(1, o.calls.get());
        }
        for (Outcome<String> o : timedOut) {
            assertEquals(1, o.calls.get());
        }
        assertEquals(0, p.a.pendingRequests());
    }

    @Test
    @Timeout(20)
    void aRequestThatCannotLeaveIsToldOnTheCallersThreadBeforeRequestReturns() throws Exception {
        Pipes p = echoPair();
        Outcome<String> badBody = new Outcome<>();
        p.a.request(Codecs.UTF8, 42, String.class, null, badBody); // an Integer is no UTF-8 text
        assertTrue(badBody.result.isDone(), "told before request returned");
        assertEquals(Thread.currentThread(), badBody.thread);
        assertInstanceOf(EncodeException.class, badBody.failure());

        Outcome<String> unknownType = new Outcome<>();
        p.a.request(0x7f, ByteBuffer.allocate(4), String.class, null, unknownType);
        assertTrue(unknownType.result.isDone());
        assertInstanceOf(UnknownTypeException.class, unknownType.failure());

        p.a.close();
        Outcome<String> closed = new Outcome<>();
        p.a.request(Codecs.UTF8, "x", String.class, null, closed);
        assertTrue(closed.result.isDone());
        assertInstanceOf(ChannelClosedException.class, closed.failure());
    }

    @Test
    @Timeout(20)
    void badArgumentsThrowAndTellNoListener() throws Exception {
        Pipes p = echoPair();
        Outcome<String> o = new Outcome<>();
        assertThrows(InvalidArgumentException.class, () -> p.a.request(Codecs.UTF8, "x", String.class, null, null));
        assertThrows(InvalidArgumentException.class, () -> p.a.request(Codecs.UTF8, "x", null, null, o));
        InvalidArgumentException zero = assertThrows(InvalidArgumentException.class,
                () -> p.a.request(Codecs.UTF8, "x", String.class, Duration.ZERO, o));
        assertTrue(zero.getMessage().contains("timeout <= 0"), zero.getMessage());
        assertEquals(0, o.calls.get());
        ExecutionException untyped = assertThrows(ExecutionException.class, () -> p.a.send(ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS));
        assertInstanceOf(InvalidArgumentException.class, untyped.getCause());
        assertTrue(untyped.getCause().getMessage().contains("name its type"), untyped.getCause().getMessage());
    }

    @Test
    @Timeout(20)
    void pendingRequestsFailWhenTheChannelCloses() throws Exception {
        List<DeferredReply> deferred = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> allRead = new CompletableFuture<>();
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    deferred.add(ctx.defer());
                    if (deferred.size() == 10) {
                        allRead.complete(null);
                    }
                }));
        List<Outcome<String>> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Outcome<String> o = new Outcome<>();
            p.a.request(Codecs.UTF8, "q" + i, String.class, i % 2 == 0 ? null : Duration.ofSeconds(30), o);
            all.add(o);
        }
        allRead.get(10, TimeUnit.SECONDS); // b has read them all: they are in a's table, not on their way
        p.a.close();
        for (Outcome<String> o : all) {
            assertInstanceOf(ChannelClosedException.class, o.failure());
            assertTrue(o.onLoop);
            assertEquals(1, o.calls.get());
        }
    }

    @Test
    @Timeout(20)
    void aListenerThatThrowsCostsNothingButItsOwnCall() throws Exception {
        Pipes p = echoPair();
        CompletableFuture<Void> thrown = new CompletableFuture<>();
        p.a.request(Codecs.UTF8, "boom", String.class, null, (r, e) -> {
            thrown.complete(null);
            throw new IllegalStateException("listener bug");
        });
        thrown.get(10, TimeUnit.SECONDS);
        Outcome<String> next = new Outcome<>();
        p.a.request(Codecs.UTF8, "still fine", String.class, null, next);
        assertEquals("still fine", next.get());
        assertTrue(p.a.isOpen());
    }

    /**
     * A window of requests per thread, each reply sending the next from its listener on the loop, while
     * other threads make requests too: every request told once, each with its own reply.
     */
    @Test
    @Timeout(60)
    void listenersChainedOnTheLoopAndCallersOnOtherThreadsEachGetTheirOwnReply() throws Exception {
        Pipes p = rawEchoPair();
        int perChain = 5_000;
        int chains = 8;
        AtomicInteger mismatches = new AtomicInteger();
        AtomicInteger told = new AtomicInteger();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int c = 0; c < chains; c++) {
            CompletableFuture<Void> chainDone = new CompletableFuture<>();
            done.add(chainDone);
            Chain chain = new Chain(p.a, (long) c << 32, perChain, chainDone, mismatches, told);
            loop.execute(chain::send);
        }
        List<Thread> callers = new ArrayList<>();
        List<Outcome<byte[]>> offLoop = new CopyOnWriteArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 2_000; i++) {
                    Outcome<byte[]> o = new Outcome<>();
                    offLoop.add(o);
                    p.a.request(Codecs.BYTES, ByteBuffer.allocate(4).putInt(0, id * 100_000 + i), byte[].class, null, o);
                }
            });
            th.start();
            callers.add(th);
        }
        for (Thread th : callers) {
            th.join(30_000);
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(50, TimeUnit.SECONDS);
        assertEquals(0, mismatches.get());
        assertEquals(chains * perChain, told.get());
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (Outcome<byte[]> o : offLoop) {
            seen.add(ByteBuffer.wrap(o.get()).getInt());
            assertEquals(1, o.calls.get());
        }
        assertEquals(8_000, seen.size());
        assertEquals(0, p.a.pendingRequests());
    }

    /** One request at a time, each sent from the previous reply's listener; checks each reply's body. */
    private static final class Chain implements ReplyListener<ByteBuffer> {
        private final MessageChannel ch;
        private final long base;
        private final int count;
        private final CompletableFuture<Void> done;
        private final AtomicInteger mismatches;
        private final AtomicInteger told;
        private int sent;

        Chain(MessageChannel ch, long base, int count, CompletableFuture<Void> done, AtomicInteger mismatches, AtomicInteger told) {
            this.ch = ch;
            this.base = base;
            this.count = count;
            this.done = done;
            this.mismatches = mismatches;
            this.told = told;
        }

        void send() {
            ByteBuffer body = ByteBuffer.allocate(8).putLong(0, base + sent++);
            ch.request(Codecs.BYTES, body, ByteBuffer.class, null, this);
        }

        @Override
        public void onReply(ByteBuffer reply, Throwable e) {
            told.incrementAndGet();
            if (e != null) {
                done.completeExceptionally(e);
                return;
            }
            if (reply.remaining() != 8 || reply.getLong(reply.position()) != base + sent - 1) {
                mismatches.incrementAndGet();
            }
            if (sent == count) {
                done.complete(null);
            } else {
                send();
            }
        }
    }
}
