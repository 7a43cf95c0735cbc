package io.dualpipe.review13;

import static io.dualpipe.TestLoops.onLoop;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Request timeout timers must not outlive their requests: not when the reply comes before the
 * requester assigned the timer (requests from other threads racing a fast child), and not when the
 * write failed before (a request made on the loop thread writes at once and meets EPIPE there, while
 * its future waits for the child's fate).
 */
class ConversationTimerTest {

    private static int timers(EventLoop loop) throws Exception {
        return onLoop(loop, () -> SingleThreadEventLoop.of(loop).pendingTimers());
    }

    private static void awaitTimers(EventLoop loop, int expected, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int now;
        while ((now = timers(loop)) != expected && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(expected, now, what);
    }

    @Test
    @Timeout(60)
    void aWriteFailedOnTheLoopThreadLeavesNoTimer() throws Exception {
        try (EventLoop loop = EventLoop.create("r13-write-failed-on-loop")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "exec 0</dev/null; echo ready; exec sleep 60")
                    .loop(loop).start();
            assertEquals("ready", sh.lines().readLine().get(10, TimeUnit.SECONDS));
            int before = timers(loop);
            List<LoopFuture<String>> replies = onLoop(loop, () -> {
                List<LoopFuture<String>> l = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    l.add(sh.request("ping " + i, Duration.ofHours(1))); // written here, at once: EPIPE before the timer
                }
                return l;
            });
            for (LoopFuture<String> r : replies) {
                assertThrows(ExecutionException.class, () -> r.get(20, TimeUnit.SECONDS));
            }
            awaitTimers(loop, before, "timeout timers of requests whose write failed on the loop thread left behind");
            sh.close();
            sh.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Aimed at the settled-before-timer case without a race: after {@code stdin().shutdownOutput()} a
     * request's write fails inside request(). It passes before the settled fix too (the failure does not
     * take DeathNotice's deferred path here), so it guards the shape, it does not reproduce the defect;
     * {@link #repliesRacingTheTimerAssignmentLeaveNoTimer} did, once, against the code before the fix.
     */
    @Test
    @Timeout(60)
    void aWriteAfterShutdownOutputLeavesNoTimer() throws Exception {
        try (EventLoop loop = EventLoop.create("r13-write-after-shutdown")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "echo ready; exec sleep 60").loop(loop).start();
            assertEquals("ready", sh.lines().readLine().get(10, TimeUnit.SECONDS));
            int before = timers(loop);
            sh.stdin().shutdownOutput().get(10, TimeUnit.SECONDS);
            LoopFuture<String> reply = sh.request("ping", Duration.ofHours(1));
            assertThrows(ExecutionException.class, () -> reply.get(20, TimeUnit.SECONDS));
            awaitTimers(loop, before, "the timeout timer of a request whose write failed inside request() left behind");
            sh.close();
            sh.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(120)
    void repliesRacingTheTimerAssignmentLeaveNoTimer() throws Exception {
        try (EventLoop loop = EventLoop.create("r13-reply-race")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            int before = timers(loop);
            List<CompletableFuture<Void>> requesters = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int thread = t;
                requesters.add(CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < 3000; i++) {
                            String line = thread + "-" + i;
                            assertEquals(line, cat.request(line, Duration.ofHours(1)).get(10, TimeUnit.SECONDS));
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            // and some from the loop thread, whose replies can only come after the timer
            List<LoopFuture<String>> fromLoop = onLoop(loop, () -> {
                List<LoopFuture<String>> l = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    l.add(cat.request("loop-" + i, Duration.ofHours(1)));
                }
                return l;
            });
            for (CompletableFuture<Void> r : requesters) {
                r.get(100, TimeUnit.SECONDS);
            }
            for (int i = 0; i < fromLoop.size(); i++) {
                assertEquals("loop-" + i, fromLoop.get(i).get(10, TimeUnit.SECONDS));
            }
            awaitTimers(loop, before, "timeout timers of answered requests left behind");
            cat.close();
            cat.onExit().get(10, TimeUnit.SECONDS);
        }
    }
}
