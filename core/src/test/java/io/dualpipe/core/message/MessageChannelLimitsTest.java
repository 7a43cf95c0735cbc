package io.dualpipe.core.message;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Limits a caller can hit: request timeouts too long for nanoseconds. */
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
}
