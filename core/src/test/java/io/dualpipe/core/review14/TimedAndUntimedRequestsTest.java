package io.dualpipe.core.review14;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.message.DeferredReply;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.RequestTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * review14: requests with a timeout (TimedRequest, lanes) and without (PendingRequest) side by side.
 * A timed-out request's late reply is dropped, never given to another; each call's future is its
 * own; close fails every outstanding one, timed or not.
 */
class TimedAndUntimedRequestsTest {

    @Test
    @Timeout(30)
    void lateRepliesAreDroppedAndCloseFailsEveryRequest() throws Exception {
        try (EventLoop loop = EventLoop.create("r14-timed")) {
            FdChannel[] aToB = FdChannel.pipe();
            FdChannel[] bToA = FdChannel.pipe();
            CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
            // b answers nothing until told: each request's deferred reply is kept under its text.
            Map<String, DeferredReply> held = new ConcurrentHashMap<>();
            LinkedBlockingQueue<String> arrived = new LinkedBlockingQueue<>();
            MessageChannel b = MessageChannel.builder(codecs).name("b")
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                        held.put(s, ctx.defer());
                        arrived.add(s);
                    })
                    .open(FdStream.source(loop, aToB[0], "b.in", 64 * 1024), FdStream.sink(loop, bToA[1], "b.out", 1 << 16, 1 << 15));
            MessageChannel a = MessageChannel.builder(codecs).name("a")
                    .open(FdStream.source(loop, bToA[0], "a.in", 64 * 1024), FdStream.sink(loop, aToB[1], "a.out", 1 << 16, 1 << 15));

            LoopFuture<String> timed = a.request("timed", String.class, Duration.ofMillis(200));
            LoopFuture<String> untimed = a.request("untimed", String.class);
            assertNotSame(timed, untimed);
            ExecutionException te = assertThrows(ExecutionException.class, () -> timed.get(10, TimeUnit.SECONDS));
            assertInstanceOf(RequestTimeoutException.class, te.getCause());
            assertEquals("timed", arrived.poll(10, TimeUnit.SECONDS));
            assertEquals("untimed", arrived.poll(10, TimeUnit.SECONDS));

            // The timed-out request's reply comes late: dropped, never handed to the one still waiting.
            held.get("timed").reply("reply-to-timed").get(10, TimeUnit.SECONDS);
            // A marker request after it: its reply is read after the late one, so once it is in, the
            // late one was routed (and must have gone nowhere).
            LoopFuture<String> marker = a.request("marker", String.class, Duration.ofSeconds(20));
            assertEquals("marker", arrived.poll(10, TimeUnit.SECONDS));
            held.get("marker").reply("reply-to-marker").get(10, TimeUnit.SECONDS);
            assertEquals("reply-to-marker", marker.get(10, TimeUnit.SECONDS));
            assertFalse(untimed.isDone(), () -> "the untimed request got " + untimed.getNow(null));

            // A caller's cancel touches its own future only.
            LoopFuture<String> timed2 = a.request("timed2", String.class, Duration.ofMinutes(5));
            LoopFuture<String> untimed2 = a.request("untimed2", String.class);
            assertEquals("timed2", arrived.poll(10, TimeUnit.SECONDS));
            assertEquals("untimed2", arrived.poll(10, TimeUnit.SECONDS));
            untimed2.cancel(false);
            held.get("untimed2").reply("late-for-cancelled");
            assertFalse(timed2.isDone());

            a.close();
            for (LoopFuture<String> f : java.util.List.of(untimed, timed2)) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
                assertInstanceOf(ChannelClosedException.class, e.getCause(), String.valueOf(e.getCause()));
            }
            assertEquals(0, a.pendingRequests());
            b.close();
            a.closeFuture().exceptionally(e -> null).get(10, TimeUnit.SECONDS);
            b.closeFuture().exceptionally(e -> null).get(10, TimeUnit.SECONDS);
        }
    }
}
