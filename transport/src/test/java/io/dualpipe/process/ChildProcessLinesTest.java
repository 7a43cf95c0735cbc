package io.dualpipe.process;

import io.dualpipe.core.BlockingOnLoopException;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.LineTooLongException;
import io.dualpipe.core.line.ReplyReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lines and request/reply over real children. */
class ChildProcessLinesTest {

    @Test
    @Timeout(30)
    void thousandPipelinedRequestsMatchInOrder() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-pipelined");
             ChildProcess cat = ChildProcess.builder("cat").loop(loop).start()) {
            List<LoopFuture<String>> replies = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                replies.add(cat.request("request " + i));
            }
            for (int i = 0; i < 1000; i++) {
                assertEquals("request " + i, get(replies.get(i)));
            }
            assertEquals(0, cat.conversation().outstanding());
        }
    }

    /** KEEP_PLACE: the first reply comes after its request timed out: it is dropped, and the next request gets its own. */
    @Test
    @Timeout(30)
    void aTimedOutRequestDoesNotDesynchroniseTheNext() throws Exception {
        String script = "read a; sleep 1; echo \"late $a\"; while read l; do echo \"re $l\"; done";
        try (EventLoop loop = EventLoop.create("lines-timeout");
             ChildProcess sh = ChildProcess.builder("sh", "-c", script).loop(loop).start()) {
            io.dualpipe.core.line.Conversation c = io.dualpipe.core.line.Conversation.builder(sh.stdin(), sh.lines())
                    .timeoutPolicy(io.dualpipe.core.line.TimeoutPolicy.KEEP_PLACE).pipelined(true).build();
            LoopFuture<String> first = c.request("first", Duration.ofMillis(200));
            failsWith(io.dualpipe.core.message.RequestTimeoutException.class, first);
            assertEquals(1, c.outstanding(), "the timed-out request keeps its place");
            LoopFuture<String> second = c.request("second", Duration.ofSeconds(10));
            assertEquals("re second", get(second));
            assertEquals("re third", get(c.request("third", Duration.ofSeconds(10))));
            assertEquals(0, c.outstanding());
        }
    }

    /** stdout ended before any reader: lines() attached afterwards never heard the end, and readLine() hung. */
    @Test
    @Timeout(30)
    void readLineAfterASilentChildHasExitedIsNull() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-silent");
             ChildProcess silent = ChildProcess.builder("sh", "-c", "true").loop(loop).start()) {
            get(silent.onDrained());
            assertNull(get(silent.readLine()));
            assertNull(get(silent.readLine()), "and again");
        }
    }

    /** Duration.toNanos() threw ArithmeticException after the line was written and queued. */
    @Test
    @Timeout(30)
    void aTimeoutTooLongForNanosecondsMeansNoPracticalLimit() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-huge-timeout");
             ChildProcess cat = ChildProcess.builder("cat").loop(loop).start()) {
            assertEquals("days", get(cat.request("days", Duration.ofDays(200_000))));
            assertEquals("max", get(cat.request("max", Duration.ofSeconds(Long.MAX_VALUE, 999_999_999))));
            assertEquals("nanos", get(cat.request("nanos", Duration.ofNanos(Long.MAX_VALUE))));
            assertEquals("on loop", get(onLoop(loop, () -> cat.request("on loop", Duration.ofDays(200_000)))));
            // A short timeout next to the huge ones still fires: the huge deadline did not wrap into the past.
            ChildProcess silent = ChildProcess.builder("sh", "-c", "read a; cat >/dev/null").loop(loop).start();
            try {
                LoopFuture<String> forever = silent.request("never answered", Duration.ofDays(200_000));
                failsWith(io.dualpipe.core.message.RequestTimeoutException.class,
                        silent.request("short", Duration.ofMillis(50)));
                assertFalse(forever.isDone());
            } finally {
                silent.close();
            }
            assertEquals(0, cat.conversation().outstanding());
        }
    }

    @Test
    @Timeout(30)
    void requestsChainOnTheLoop() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-chain");
             ChildProcess cat = ChildProcess.builder("cat").loop(loop).start()) {
            // Built on the loop, so no reply can come before its continuation is attached (one
            // attached to a completed future would run on the attaching thread instead).
            AtomicBoolean allOnLoop = new AtomicBoolean(true);
            CompletableFuture<String> chain = onLoop(loop, () -> {
                CompletableFuture<String> c = cat.request("0");
                for (int i = 1; i <= 200; i++) {
                    int n = i;
                    c = c.thenCompose(reply -> {
                        allOnLoop.compareAndSet(true, loop.inEventLoop());
                        return cat.request(reply + "," + n);
                    });
                }
                return c;
            });
            assertTrue(chain instanceof LoopFuture, "derived stages keep the loop guard");
            String result = get(chain);
            assertEquals(201, result.split(",").length);
            assertTrue(result.endsWith(",199,200"), result);
            assertTrue(allOnLoop.get(), "continuations run on the loop thread");

            // blocking on a reply from the loop thread would deadlock: refused at once
            CompletableFuture<Throwable> refused = onLoop(loop, () -> cat.request("x").thenApply(r -> {
                try {
                    cat.request("y").join();
                    return null;
                } catch (BlockingOnLoopException e) {
                    return e;
                }
            }));
            assertTrue(get(refused) instanceof BlockingOnLoopException);
        }
    }

    /** The child answers one request and exits: the others (c never written) fail with ChannelClosedException, as do later ones. */
    @Test
    @Timeout(30)
    void outstandingRequestsFailWhenTheChildExits() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-exit");
             ChildProcess sh = ChildProcess.builder("sh", "-c", "read a; echo \"$a\"; read b; exit 0")
                     .loop(loop).start()) {
            LoopFuture<String> a = sh.request("a");
            LoopFuture<String> b = sh.request("b");
            LoopFuture<String> c = sh.request("c");
            assertEquals("a", get(a));
            failsWith(ChannelClosedException.class, b);
            failsWith(ChannelClosedException.class, c);
            assertTrue(get(sh.onExit()).isSuccess());
            failsWith(ChannelClosedException.class, sh.request("after the end"));
            assertEquals(0, sh.conversation().outstanding());
        }
    }

    @Test
    @Timeout(30)
    void multiLineReplies() throws Exception {
        String script = "while read l; do echo \"$l-1\"; echo \"$l-2\"; echo END; done";
        try (EventLoop loop = EventLoop.create("lines-multi");
             ChildProcess sh = ChildProcess.builder("sh", "-c", script).loop(loop).start()) {
            List<CompletableFuture<List<String>>> replies = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                replies.add(i % 2 == 0 ? sh.request("r" + i, ReplyReader.untilLine("END"))
                        : sh.request("r" + i, ReplyReader.untilLine("END")).thenApply(List::copyOf));
            }
            for (int i = 0; i < 50; i++) {
                assertEquals(List.of("r" + i + "-1", "r" + i + "-2"), get(replies.get(i)));
            }
            // a reader of a fixed count leaves the terminator for nobody: it arrives unsolicited
            assertEquals(List.of("x-1", "x-2"), get(sh.request("x", ReplyReader.lines(2))));
        }
    }

    /** An over-long line fails exactly one readLine; the lines around it come through untouched. */
    @Test
    @Timeout(30)
    void overLongLinesFailOneReadEach() throws Exception {
        String script = "echo short; printf '%0100d\\n' 0; echo next; echo 0123456789abcdef; echo 0123456789abcdefg; "
                + "head -c 1048576 /dev/zero | tr '\\0' x; echo; echo last";
        try (EventLoop loop = EventLoop.create("lines-long");
             ChildProcess sh = ChildProcess.builder("sh", "-c", script).maxLineLength(16).loop(loop).start()) {
            assertEquals("short", get(sh.readLine()));
            assertEquals(16, failsWith(LineTooLongException.class, sh.readLine()).maxLineLength());
            assertEquals("next", get(sh.readLine()));
            assertEquals("0123456789abcdef", get(sh.readLine()), "exactly the limit is fine");
            failsWith(LineTooLongException.class, sh.readLine());
            failsWith(LineTooLongException.class, sh.readLine()); // 1 MiB, skipped without being held
            assertEquals("last", get(sh.readLine()));
            assertNull(get(sh.readLine()));
            assertTrue(get(sh.onDrained()).isSuccess());
        }
    }

    @Test
    @Timeout(30)
    void anOverLongReplyFailsItsRequestOnly() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-long-reply");
             ChildProcess cat = ChildProcess.builder("cat").maxLineLength(16).loop(loop).start()) {
            LoopFuture<String> tooLong = cat.request("y".repeat(100));
            LoopFuture<String> fine = cat.request("fine");
            failsWith(LineTooLongException.class, tooLong);
            assertEquals("fine", get(fine));
            assertFalse(fine.isCompletedExceptionally());
            await("nothing outstanding", () -> cat.conversation().outstanding() == 0);
        }
    }
}
