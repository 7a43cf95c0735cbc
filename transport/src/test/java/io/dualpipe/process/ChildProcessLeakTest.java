package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Set;
import java.util.TreeSet;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.threadNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many children one after the other leave no descriptor, zombie or thread behind. */
class ChildProcessLeakTest {
    /**
     * A leak of one fd, zombie or thread per spawn shows after the first; the count is for leaks that
     * need repetition (one spawn in hundreds, or a table that grows slowly), and the check every
     * {@link #CHECK_EVERY} spawns fails such a run early. 10,000 took 42 s on two idle cores and
     * past the 120 s bound on busy ones (spawning is all fork/exec and reaping, which a loaded
     * machine slows ten times and more); 2,000 keeps every assertion and several hundred times the
     * spawns a steady leak needs, and stays inside the bound below at 10 spawns/s.
     */
    private static final int SPAWNS = 2_000;
    private static final int CHECK_EVERY = 500;

    /** A child nobody closes gives its pipes back once it has exited, stdin and TO_CHILD pipes included. */
    @Test
    @Timeout(20)
    void anExitedChildReleasesItsFdsWithoutClose() throws Exception {
        try (EventLoop loop = EventLoop.create("leak-one")) {
            Leaks.Baseline fds = Leaks.baseline();
            ChildProcess sh = ChildProcess.builder("sh", "-c", "echo bye")
                    .extraPipe(PipeDirection.TO_CHILD).extraPipe(PipeDirection.FROM_CHILD).loop(loop).start();
            assertEquals("bye", get(sh.readLine()));
            assertTrue(get(sh.onDrained()).isSuccess());
            Leaks.awaitNoFdsBeyond(fds);
            failsWith(ChannelClosedException.class, sh.stdin().write("too late"));
        }
    }

    /** The plain pattern: start, await onExit, forget; no close() call. */
    @Test
    @Timeout(300)
    void twoThousandSequentialSpawnsAwaitingOnExitOnly() throws Exception {
        spawnMany("leak-exit-only", false);
    }

    @Test
    @Timeout(300)
    void twoThousandSequentialSpawnsClosedAfterExit() throws Exception {
        spawnMany("leak-closed", true);
    }

    private static void spawnMany(String name, boolean close) throws Exception {
        try (EventLoop warm = EventLoop.create(name + "-warm-up")) {
            // First spawns load native stubs and classes that may open descriptors of their own.
            ChildProcess p = ChildProcess.builder("true").loop(warm).start();
            get(p.onExit());
            p.close();
        }
        Set<String> threadsBefore = threadNames();
        Leaks.Baseline fdsBefore = Leaks.baseline();
        long t0 = System.nanoTime();
        try (EventLoop loop = EventLoop.create(name)) {
            Leaks.Baseline fdsWithLoop = Leaks.baseline(); // the loop's epoll and wakeup fds
            for (int i = 0; i < SPAWNS; i++) {
                ChildProcess p = ChildProcess.builder("true").loop(loop).start();
                assertTrue(get(p.onExit()).isSuccess());
                if (close) {
                    p.close();
                }
                if (i % CHECK_EVERY == CHECK_EVERY - 1) {
                    Leaks.awaitNoFdsBeyond(fdsWithLoop, 2);
                }
            }
            Leaks.awaitNoFdsBeyond(fdsWithLoop);
        }
        System.out.printf("%s: %d spawns in %d ms%n", name, SPAWNS, (System.nanoTime() - t0) / 1_000_000);
        // the loop's own fds are closed once its thread has ended
        Leaks.awaitNoFdsBeyond(fdsBefore);
        Leaks.assertNoZombies(fdsBefore);
        await("no thread left behind", () -> {
            Set<String> extra = new TreeSet<>(threadNames());
            extra.removeAll(threadsBefore);
            return extra.isEmpty();
        });
    }
}
