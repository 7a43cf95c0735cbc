package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.message.RequestTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Review reproducers for Conversation with real children. */
class ConversationReviewTest {

    /**
     * One at a time, a request that timed out before it was written stayed in the queue of unsent
     * requests until the head's reply came, and kept counting against maxOutstanding: the
     * conversation refused new requests with TooManyRequestsException although only the head was waiting.
     */
    @Test
    @Timeout(30)
    void aRequestThatTimedOutUnwrittenNoLongerCountsAsOutstanding() throws Exception {
        try (EventLoop loop = EventLoop.create("conv-review");
             ChildProcess bc = ChildProcess.builder("bc", "-q").loop(loop).start()) {
            Conversation c = Conversation.builder(bc.stdin(), bc.lines()).maxOutstanding(2).build();
            LoopFuture<String> head = c.request("x=5"); // bc prints nothing: the head waits (no timeout)
            LoopFuture<String> behind = c.request("1+1", Duration.ofMillis(100)); // waits unwritten, times out
            ExecutionException e = assertThrows(ExecutionException.class, () -> behind.get(20, TimeUnit.SECONDS));
            assertInstanceOf(RequestTimeoutException.class, e.getCause());
            assertEquals(1, c.outstanding(), "only the head awaits a reply");
            LoopFuture<String> next = c.request("2+2");
            assertFalse(next.isDone(), () -> "refused: " + next.handle((v, x) -> String.valueOf(x)).join());
            assertFalse(head.isDone());
        }
    }
}
