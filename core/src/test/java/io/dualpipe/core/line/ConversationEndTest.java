package io.dualpipe.core.line;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The end of the reply stream fails the outstanding requests and every later one with the same
 * ChannelClosedException, whether a request waited when it came (the exception is made then) or not
 * (it is made when the first later request needs it).
 */
class ConversationEndTest {
    private static final String ENDED = "the reply stream ended before the reply came";

    @Test
    @Timeout(30)
    void requestsAfterAnIdleEndFailWithOneChannelClosedException() throws Exception {
        try (EventLoop loop = EventLoop.create("conv-end")) {
            FdChannel[] replies = FdChannel.pipe();
            FdChannel[] requests = FdChannel.pipe();
            FdStream source = FdStream.source(loop, replies[0], "replies", 64 * 1024);
            FdStream out = FdStream.sink(loop, requests[1], "requests", 64 * 1024, 32 * 1024);
            Conversation c = Conversation.over(out, LineReader.of(source), UTF_8);
            replies[1].close();
            awaitEnd(loop, source);
            Throwable first = failure(c.request("one"));
            assertEquals(ChannelClosedException.class, first.getClass());
            assertEquals(ENDED, first.getMessage());
            assertSame(first, failure(c.request("two")), "every later request gets the one exception, as before");
            assertFalse(c.isBroken());
            assertEquals(0, c.outstanding());
            requests[0].close();
        }
    }

    @Test
    @Timeout(30)
    void anOutstandingRequestAndLaterOnesFailWithTheSameException() throws Exception {
        try (EventLoop loop = EventLoop.create("conv-end")) {
            FdChannel[] replies = FdChannel.pipe();
            FdChannel[] requests = FdChannel.pipe();
            LineReader lines = LineReader.of(FdStream.source(loop, replies[0], "replies", 64 * 1024));
            FdStream out = FdStream.sink(loop, requests[1], "requests", 64 * 1024, 32 * 1024);
            Conversation c = Conversation.over(out, lines, UTF_8);
            LoopFuture<String> waiting = c.request("one");
            replies[1].close();
            Throwable first = failure(waiting);
            assertEquals(ChannelClosedException.class, first.getClass());
            assertEquals(ENDED, first.getMessage());
            assertSame(first, failure(c.request("two")));
            assertFalse(c.isBroken());
            requests[0].close();
        }
    }

    /** The source completes its end before it tells its listener, in the same loop task: one more task after it. */
    private static void awaitEnd(EventLoop loop, FdStream source) throws Exception {
        source.endOfStream().get(10, TimeUnit.SECONDS);
        CompletableFuture<Void> pass = new CompletableFuture<>();
        loop.execute(() -> pass.complete(null));
        pass.get(10, TimeUnit.SECONDS);
    }

    private static Throwable failure(LoopFuture<String> f) {
        return assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS)).getCause();
    }
}
