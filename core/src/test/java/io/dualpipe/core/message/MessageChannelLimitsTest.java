package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.EncodeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Limits a caller can hit: request timeouts too long for nanoseconds, and frames over maxFrameSize. */
class MessageChannelLimitsTest {
    private static final int MAX = 64;
    private static final String MARKER = "...(truncated)";
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("limits-test");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static Throwable failure(Future<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    /** Runs {@code call} on the loop thread and hands back the future it returned. */
    private <T> LoopFuture<T> onLoop(Supplier<LoopFuture<T>> call) throws Exception {
        CompletableFuture<LoopFuture<T>> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(call.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return await(f);
    }

    /** The pending count as the loop sees it, once the tasks queued before this one have run. */
    private int pendingOnLoop(MessageChannel ch) throws Exception {
        CompletableFuture<Integer> seen = new CompletableFuture<>();
        loop.execute(() -> seen.complete(ch.pendingRequests()));
        return await(seen);
    }

    // ---- huge timeouts ----

    @Test
    @Timeout(20)
    void aTimeoutTooLongForNanosecondsMeansNoPracticalLimitFromAnyThread() throws Exception {
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()),
                MessageChannel.builder(Pipes.codecs()).handleAny((ctx, m) -> ctx.reply(ctx.type(), m)));
        Duration huge = Duration.ofDays(200_000); // ~548 years: Duration.toNanos() overflows
        assertEquals("off", await(p.a.request(Codecs.UTF8, "off", String.class, huge)));
        assertEquals("on", await(onLoop(() -> p.a.request(Codecs.UTF8, "on", String.class, huge))));
        Duration longest = Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);
        assertEquals("max", await(p.a.request(Codecs.UTF8, "max", String.class, longest)));
        // Fits in nanoseconds but would overflow a deadline on nanoTime()
        assertEquals("nanos", await(onLoop(() -> p.a.request(Codecs.UTF8, "nanos", String.class, Duration.ofNanos(Long.MAX_VALUE)))));
        assertEquals(0, pendingOnLoop(p.a));
    }

    @Test
    @Timeout(20)
    void aHugeTimeoutLeavesOtherTimeoutsWorkingAndTheRequestCancellable() throws Exception {
        Pipes p = new Pipes(loop, MessageChannel.builder(Pipes.codecs()),
                MessageChannel.builder(Pipes.codecs()).handleAny((ctx, m) -> ctx.defer())); // never answered
        LoopFuture<Object> forever = p.a.request(Codecs.UTF8, "forever", Object.class, Duration.ofDays(200_000));
        assertInstanceOf(RequestTimeoutException.class,
                failure(p.a.request(Codecs.UTF8, "short", Object.class, Duration.ofMillis(50))));
        assertEquals(1, pendingOnLoop(p.a));
        assertFalse(forever.isDone());
        assertTrue(forever.cancel(false));
        assertEquals(0, pendingOnLoop(p.a));
    }

    // ---- maxFrameSize on every outgoing frame ----

    private static MessageChannelBuilder small() {
        return MessageChannel.builder(Pipes.codecs()).maxFrameSize(MAX);
    }

    private static void assertTruncated(RemoteException e, String expectedStart) {
        String text = e.remoteText();
        assertTrue(text.getBytes(StandardCharsets.UTF_8).length <= MAX, text);
        assertTrue(text.endsWith(MARKER), text);
        assertTrue(text.startsWith(expectedStart), text);
        assertFalse(text.contains("\uFFFD"), "cut inside a UTF-8 sequence: " + text);
    }

    @Test
    @Timeout(20)
    void aLongErrorTextIsTruncatedToFitAndTheConnectionSurvives() throws Exception {
        List<DualPipeException> errors = new CopyOnWriteArrayList<>();
        CompletableFuture<DeferredReply> parked = new CompletableFuture<>();
        Pipes p = new Pipes(loop, small(), small()
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    switch (s) {
                        case "throw" -> throw new RuntimeException("x".repeat(200));
                        case "utf8" -> throw new RuntimeException("✓".repeat(100)); // 3 bytes each
                        case "refuse" -> ctx.replyError("r".repeat(200));
                        case "big reply" -> ctx.reply(Codecs.BYTES, new byte[100]);
                        case "defer" -> parked.complete(ctx.defer());
                        default -> ctx.reply(s);
                    }
                })
                .handle(Codecs.JSON, Integer.class, (ctx, i) -> ctx.reply(i))
                .onError((ch, e) -> errors.add(e)));

        assertTruncated((RemoteException) failure(p.a.request("throw")), "java.lang.RuntimeException: xxx");
        assertTruncated((RemoteException) failure(p.a.request("utf8")), "java.lang.RuntimeException: ✓✓");
        assertTruncated((RemoteException) failure(p.a.request("refuse")), "rrr");
        // The handler's oversized reply throws in the handler; the request gets the reason instead.
        RemoteException big = (RemoteException) failure(p.a.request("big reply"));
        assertTrue(big.remoteText().startsWith(EncodeException.class.getName()), big.remoteText());
        LoopFuture<Object> deferred = p.a.request("defer");
        await(await(parked).replyError("d".repeat(200))); // from this thread, not the loop
        assertTruncated((RemoteException) failure(deferred), "ddd");
        // A message its handler cannot take: b's explanation, naming both classes, does not fit either.
        assertTruncated((RemoteException) failure(p.a.request(Codecs.JSON, "text", Object.class, null)), "b: message type 0x03");

        assertEquals("alive", await(p.a.request("alive")));
        assertTrue(p.a.isOpen() && p.b.isOpen());
        assertEquals(4, errors.size(), errors.toString()); // throw, utf8, big reply, wrong class
    }

    @Test
    @Timeout(20)
    void anErrorTextThatFitsIsSentAsItIs() throws Exception {
        Pipes p = new Pipes(loop, small(), small().handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.replyError(s)));
        String exact = "é".repeat(MAX / 2); // exactly maxFrameSize bytes
        assertEquals(exact, ((RemoteException) failure(p.a.request(exact))).remoteText());
    }

    @Test
    @Timeout(20)
    void underATinyLimitTheTextIsCutWithoutTheMarker() throws Exception {
        MessageChannelBuilder tiny = MessageChannel.builder(Pipes.codecs()).maxFrameSize(8); // < the marker's 14 bytes
        Pipes p = new Pipes(loop, tiny, MessageChannel.builder(Pipes.codecs()).maxFrameSize(8)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.replyError(s.equals("a") ? "✓✓✓✓" : "abcdefghij")));
        assertEquals("✓✓", ((RemoteException) failure(p.a.request("a"))).remoteText()); // 12 bytes; 8 would split the third
        assertEquals("abcdefgh", ((RemoteException) failure(p.a.request("b"))).remoteText());
        assertTrue(p.a.isOpen() && p.b.isOpen());
    }

    @Test
    @Timeout(20)
    void anOversizedSmallBodyFailsTheSameOnTheLoopAsOffIt() throws Exception {
        List<DualPipeException> bErrors = new CopyOnWriteArrayList<>();
        Pipes p = new Pipes(loop, small(), small()
                .handleAny((ctx, m) -> {
                    if (ctx.isRequest()) {
                        ctx.reply(ctx.type(), m);
                    }
                })
                .onError((ch, e) -> bErrors.add(e)));
        byte[] body = new byte[100];
        Throwable off = failure(p.a.send(Codecs.BYTES, body));
        Throwable on = failure(onLoop(() -> p.a.send(Codecs.BYTES, body)));
        assertInstanceOf(EncodeException.class, off);
        assertInstanceOf(EncodeException.class, on);
        assertEquals(off.getMessage(), on.getMessage());
        assertTrue(on.getMessage().contains("100 bytes > maxFrameSize 64"), on.getMessage());
        assertInstanceOf(EncodeException.class, failure(onLoop(() -> p.a.request(Codecs.BYTES, body, byte[].class, null))));
        // At the limit it still goes, borrowed or not.
        byte[] fits = new byte[MAX];
        assertEquals(MAX, await(onLoop(() -> p.a.request(Codecs.BYTES, fits, byte[].class, null))).length);
        assertEquals(MAX, await(p.a.request(Codecs.BYTES, fits, byte[].class, null)).length);
        assertTrue(p.a.isOpen() && p.b.isOpen());
        assertEquals(List.of(), bErrors);
    }
}
