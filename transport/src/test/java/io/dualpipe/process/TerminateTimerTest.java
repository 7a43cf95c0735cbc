package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.process.internal.ProcessControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Repeated {@link ChildProcess#terminate(Duration)}: one SIGKILL timer per child, at the earliest
 * deadline asked for, gone from the loop once the child is reaped.
 */
class TerminateTimerTest {

    /** A child that ignores SIGTERM (the disposition survives exec), started and past its trap. */
    private static ChildProcess stubborn(EventLoop loop) throws Exception {
        ChildProcess sh = ChildProcess.builder("sh", "-c", "trap '' TERM; echo ready; exec sleep 60").loop(loop).start();
        assertEquals("ready", get(sh.lines().readLine()));
        return sh;
    }

    private static int timers(EventLoop loop) throws Exception {
        return onLoop(loop, () -> SingleThreadEventLoop.of(loop).pendingTimers());
    }

    @Test
    @Timeout(30)
    void manyTerminateCallsLeaveOneTimerWhichGoesAtExit() throws Exception {
        try (EventLoop loop = EventLoop.create("terminate-timers")) {
            ChildProcess sh = stubborn(loop);
            int before = timers(loop); // 0 with a pidfd; a polled child has its own poll timer
            for (int i = 0; i < 200; i++) {
                sh.terminate(Duration.ofHours(1));
            }
            assertEquals(before + 1, timers(loop), "one SIGKILL timer, however often terminate() is called");
            assertTrue(sh.isAlive());
            assertTrue(sh.signal(ProcessControl.SIGKILL));
            assertEquals(ProcessControl.SIGKILL, get(sh.onExit()).signal());
            assertEquals(0, timers(loop), "the SIGKILL timer outlived the child");
        }
    }

    @Test
    @Timeout(30)
    void terminateFromManyThreadsAtOnceLeavesOneTimer() throws Exception {
        try (EventLoop loop = EventLoop.create("terminate-threads")) {
            ChildProcess sh = stubborn(loop);
            int before = timers(loop);
            List<CompletableFuture<Void>> callers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                callers.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 200; i++) {
                        sh.terminate(Duration.ofMinutes(10 + i % 7));
                    }
                }));
            }
            for (CompletableFuture<Void> c : callers) {
                get(c);
            }
            assertEquals(before + 1, timers(loop));
            sh.close();
            get(sh.onExit());
            assertEquals(0, timers(loop));
        }
    }

    /** Later calls with a longer grace neither postpone the first call's SIGKILL nor bring it forward. */
    @Test
    @Timeout(30)
    void aLongerGraceLaterNeitherPostponesNorHastensTheKill() throws Exception {
        try (EventLoop loop = EventLoop.create("terminate-longer")) {
            ChildProcess sh = stubborn(loop);
            long start = System.nanoTime();
            sh.terminate(Duration.ofMillis(300));
            for (int i = 0; i < 50; i++) {
                sh.terminate(Duration.ofHours(1));
            }
            ExitStatus status = get(sh.onExit());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(ProcessControl.SIGKILL, status.signal(), status.toString());
            assertTrue(ms >= 300, "SIGKILL after " + ms + " ms, before the 300 ms grace");
            assertEquals(0, timers(loop));
        }
    }

    @Test
    @Timeout(30)
    void aShorterGraceLaterBringsTheKillForward() throws Exception {
        try (EventLoop loop = EventLoop.create("terminate-shorter")) {
            ChildProcess sh = stubborn(loop);
            sh.terminate(Duration.ofHours(1));
            long start = System.nanoTime();
            sh.terminate(Duration.ofMillis(100));
            ExitStatus status = get(sh.onExit());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(ProcessControl.SIGKILL, status.signal(), status.toString());
            assertTrue(ms >= 100, "SIGKILL after " + ms + " ms, before the 100 ms grace");
            assertEquals(0, timers(loop), "the hour-long timer it replaced is still pending");
        }
    }
}
