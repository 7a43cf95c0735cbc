package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.RequestTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Request timeouts kept in per-timeout lanes ({@link Deadlines}) rather than a loop timer each:
 * they still fire, never early, whatever the mix of timeouts, a straggler does not make the lane
 * grow with the requests answered behind it, and closing leaves no timer behind.
 */
class RequestTimeoutLanesTest {
    private EventLoop loop;
    private MessageChannel a;
    private MessageChannel b;

    @BeforeEach
    void start() {
        loop = EventLoop.create("lanes-test");
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        FdChannel[] ab = FdChannel.pipe();
        FdChannel[] ba = FdChannel.pipe();
        // b answers every request but "never", which it keeps unanswered (deferred, never completed).
        b = MessageChannel.builder(codecs).handle(Codecs.UTF8, String.class, (ctx, s) -> {
            if (s.startsWith("never")) {
                ctx.defer();
            } else {
                ctx.reply(Codecs.UTF8, s);
            }
        }).open(FdStream.source(loop, ab[0], "b-in", FdStream.DEFAULT_READ_LIMIT),
                FdStream.sink(loop, ba[1], "b-out", FdStream.DEFAULT_HIGH_WATER, FdStream.DEFAULT_LOW_WATER));
        a = MessageChannel.builder(codecs).open(FdStream.source(loop, ba[0], "a-in", FdStream.DEFAULT_READ_LIMIT),
                FdStream.sink(loop, ab[1], "a-out", FdStream.DEFAULT_HIGH_WATER, FdStream.DEFAULT_LOW_WATER));
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
        loop.close();
    }

    private <T> T onLoop(Supplier<T> s) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(s.get()));
        return f.get(10, TimeUnit.SECONDS);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        return assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS)).getCause();
    }

    @Test
    @Timeout(30)
    void aStragglerTimesOutNoEarlierWhileTheRequestsBehindItAreAnsweredAndForgotten() throws Exception {
        Duration timeout = Duration.ofMillis(400);
        long t0 = System.nanoTime();
        LoopFuture<String> straggler = a.request(Codecs.UTF8, "never", String.class, timeout);
        // Far more answered requests than the lane's ring: kept, they would make it grow.
        for (int round = 0; round < 20; round++) {
            List<LoopFuture<String>> batch = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                batch.add(a.request(Codecs.UTF8, "r" + i, String.class, timeout));
            }
            for (int i = 0; i < batch.size(); i++) {
                assertEquals("r" + i, batch.get(i).get(10, TimeUnit.SECONDS));
            }
        }
        int kept = onLoop(() -> ((DefaultMessageChannel) a).requests().timeoutEntries());
        assertTrue(kept <= 2 * 500 + 64 + 16, "the lane keeps " + kept + " entries behind one straggler");
        assertInstanceOf(RequestTimeoutException.class, failure(straggler));
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(elapsedMs >= 400, "timed out after " + elapsedMs + " ms, before its 400 ms");
        assertEquals(0, a.pendingRequests());
    }

    @Test
    @Timeout(30)
    void moreTimeoutsThanLanesEachFireNoEarlierAndShortBeforeLong() throws Exception {
        int n = Deadlines.MAX_LANES + 3;
        List<LoopFuture<String>> fs = new ArrayList<>();
        List<Long> sentAt = new ArrayList<>();
        long[] failedAt = new long[n];
        for (int i = 0; i < n; i++) {
            int k = i;
            long ms = 100L * (n - i); // longest first: a later, shorter one must not wait behind it
            sentAt.add(System.nanoTime());
            LoopFuture<String> f = a.request(Codecs.UTF8, "never" + i, String.class, Duration.ofMillis(ms));
            f.whenComplete((v, e) -> failedAt[k] = System.nanoTime());
            fs.add(f);
        }
        for (int i = 0; i < n; i++) {
            Throwable e = failure(fs.get(i));
            assertInstanceOf(RequestTimeoutException.class, e);
            long ms = 100L * (n - i);
            assertTrue(e.getMessage().contains("within PT"), e.getMessage());
            long took = TimeUnit.NANOSECONDS.toMillis(failedAt[i] - sentAt.get(i));
            assertTrue(took >= ms, "request " + i + " timed out after " + took + " ms, before its " + ms + " ms");
        }
        for (int i = 1; i < n; i++) {
            assertTrue(failedAt[i] <= failedAt[i - 1], "the " + (100L * (n - i)) + " ms request timed out after the "
                    + (100L * (n - i + 1)) + " ms one");
        }
        assertEquals(0, a.pendingRequests());
    }

    @Test
    @Timeout(30)
    void aCancelledRequestIsDroppedAndTheOthersStillTimeOut() throws Exception {
        LoopFuture<String> cancelled = a.request(Codecs.UTF8, "never-c", String.class, Duration.ofMillis(200));
        LoopFuture<String> kept = a.request(Codecs.UTF8, "never-k", String.class, Duration.ofMillis(200));
        assertTrue(cancelled.cancel(false));
        assertInstanceOf(RequestTimeoutException.class, failure(kept));
        assertEquals(0, (int) onLoop(() -> a.pendingRequests()));
    }

    @Test
    @Timeout(30)
    void closingLeavesNoTimerBehind() throws Exception {
        int before = onLoop(() -> SingleThreadEventLoop.of(loop).pendingTimers());
        List<LoopFuture<String>> fs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            fs.add(a.request(Codecs.UTF8, "x" + i, String.class, Duration.ofSeconds(60 + i % 6)));
        }
        LoopFuture<String> open = a.request(Codecs.UTF8, "never", String.class, Duration.ofSeconds(60));
        for (LoopFuture<String> f : fs) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertTrue(onLoop(() -> SingleThreadEventLoop.of(loop).pendingTimers()) > before);
        a.close();
        assertTrue(failure(open) instanceof io.dualpipe.core.ChannelClosedException, () -> String.valueOf(failure(open)));
        assertEquals(before, (int) onLoop(() -> SingleThreadEventLoop.of(loop).pendingTimers()));
    }
}
