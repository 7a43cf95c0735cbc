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
    private static final int SPAWNS = 10_000;

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
    @Timeout(120)
    void tenThousandSequentialSpawnsAwaitingOnExitOnly() throws Exception {
        spawnMany("leak-exit-only", false);
    }

    @Test
    @Timeout(120)
    void tenThousandSequentialSpawnsClosedAfterExit() throws Exception {
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
                if (i % 1000 == 999) {
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
