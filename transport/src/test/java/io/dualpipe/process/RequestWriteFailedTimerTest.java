package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A request with a timeout whose write fails (EPIPE: the child closed its stdin but lives on) fails
 * later, once the child's death is known or a bound passed; its timeout timer must go at once, not
 * linger on the loop until the timeout (an hour here).
 */
class RequestWriteFailedTimerTest {

    private static int timers(EventLoop loop) throws Exception {
        return onLoop(loop, () -> SingleThreadEventLoop.of(loop).pendingTimers());
    }

    @Test
    @Timeout(30)
    void aFailedWriteLeavesNoTimeoutTimerBehind() throws Exception {
        try (EventLoop loop = EventLoop.create("write-failed-timer")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "exec 0</dev/null; echo ready; exec sleep 60")
                    .loop(loop).start();
            assertEquals("ready", get(sh.lines().readLine()));
            int before = timers(loop); // 0 with a pidfd; a polled child has its own poll timer
            for (int i = 0; i < 3; i++) {
                var reply = sh.request("ping " + i, Duration.ofHours(1));
                assertThrows(ExecutionException.class, () -> reply.get(10, TimeUnit.SECONDS));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int now;
            while ((now = timers(loop)) != before && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(before, now, "timeout timers of failed requests left on the loop");
            sh.close();
            get(sh.onExit());
        }
    }
}
