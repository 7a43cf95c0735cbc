package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.LoopClosedException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Children spread over an EventLoopGroup with {@code loop(group.next())}, and pinned with one loop. */
class GroupChildrenTest {

    @BeforeAll
    static void warmUp() throws Exception {
        // The JDK keeps one socket for good once NIO is first used (its pre-close fd); jnr stubs and
        // logging load once too: the baselines come after them.
        try (EventLoop warm = EventLoop.create("warm")) {
            ChildProcess c = ChildProcess.builder("true").loop(warm).start();
            c.onExit().get(20, TimeUnit.SECONDS);
            c.close();
        }
    }

    private static void assertNoThreads(String prefix) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.isAlive() && t.getName().startsWith(prefix), "thread left running: " + t);
        }
    }

    @Test
    @Timeout(60)
    void childrenSpreadOverTheLoopsAndAreCalledBackOnTheirOwn() throws Exception {
        Leaks.Baseline before = Leaks.baseline();
        Map<Integer, Set<String>> threadsPerChild = new ConcurrentHashMap<>();
        try (EventLoopGroup group = EventLoopGroup.create(2, "gct")) {
            ChildProcessBuilder cat = ChildProcess.builder("cat").stderr(StderrMode.DISCARD);
            List<ChildProcess> kids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                kids.add(cat.loop(group.next()).start());
            }
            for (int i = 0; i < kids.size(); i++) {
                assertSame(group.loops().get(i % 2), kids.get(i).loop(), "round-robin placement");
            }
            List<CompletableFuture<?>> all = new ArrayList<>();
            for (ChildProcess c : kids) {
                Set<String> seen = threadsPerChild.computeIfAbsent(c.pid(), k -> ConcurrentHashMap.newKeySet());
                // Started on the child's loop, so stages attached to an already complete future run there too.
                CompletableFuture<Void> f = new CompletableFuture<>();
                c.loop().execute(() -> c.request("a")
                        .thenCompose(r -> {
                            seen.add(Thread.currentThread().getName());
                            return c.request("b");
                        })
                        .thenCompose(r -> {
                            seen.add(Thread.currentThread().getName());
                            c.stdin().shutdownOutput();
                            return c.onExit();
                        })
                        .thenAccept(st -> {
                            seen.add(Thread.currentThread().getName());
                            assertTrue(st.isSuccess(), st.toString());
                        })
                        .whenComplete((v, e) -> {
                            if (e != null) {
                                f.completeExceptionally(e);
                            } else {
                                f.complete(null);
                            }
                        }));
                all.add(f);
            }
            CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < kids.size(); i++) {
                assertEquals(Set.of("gct-" + (i % 2)), threadsPerChild.get(kids.get(i).pid()),
                        "child " + i + " was called back on its loop only");
                kids.get(i).close();
            }
        }
        assertNoThreads("gct");
        Leaks.assertNoZombies(before);
        Leaks.awaitNoFdsBeyond(before);
    }

    @Test
    @Timeout(60)
    void closingTheGroupKillsAndReapsTheChildrenOfEveryLoop() throws Exception {
        Leaks.Baseline before = Leaks.baseline();
        EventLoopGroup group = EventLoopGroup.create(2, "gck");
        List<ChildProcess> kids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            kids.add(ChildProcess.builder("sleep", "600").loop(group.next()).start());
        }
        List<CompletableFuture<ExitStatus>> exits = new ArrayList<>();
        for (ChildProcess c : kids) {
            exits.add(c.onExit());
        }
        group.close();
        for (CompletableFuture<ExitStatus> f : exits) {
            // Killed and reaped by its loop on the way out; either way the future is done, never left pending.
            assertTrue(f.isDone());
        }
        assertNoThreads("gck");
        LoopClosedException e = assertThrows(LoopClosedException.class,
                () -> ChildProcess.builder("true").loop(group.next()).start());
        assertEquals("event loop group 'gck' is closed", e.getMessage());
        Leaks.assertNoZombies(before);
        Leaks.awaitNoFdsBeyond(before);
    }

    @Test
    @Timeout(60)
    void childrenPinnedToOneLoopShareItsThread() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(2, "gcp")) {
            EventLoop pinned = group.next();
            ChildProcess a = ChildProcess.builder("cat").loop(pinned).start();
            ChildProcess b = ChildProcess.builder("cat").loop(pinned).start();
            CompletableFuture<String> onA = new CompletableFuture<>();
            CompletableFuture<String> onB = new CompletableFuture<>();
            pinned.execute(() -> {
                a.request("x").thenAccept(r -> onA.complete(Thread.currentThread().getName()));
                b.request("y").thenAccept(r -> onB.complete(Thread.currentThread().getName()));
            });
            assertEquals("gcp-0", onA.get(20, TimeUnit.SECONDS));
            assertEquals("gcp-0", onB.get(20, TimeUnit.SECONDS));
            // A pipeline's stages share a loop: pinned, it works; the group's rule says so.
            Pipeline pipeline = ChildProcess.pipeline(ChildProcess.builder("cat").loop(pinned),
                    ChildProcess.builder("tr", "a-z", "A-Z").loop(pinned));
            pipeline.stdin().write("pinned\n".getBytes());
            pipeline.stdin().shutdownOutput();
            assertEquals("PINNED", pipeline.lines().readLine().get(20, TimeUnit.SECONDS));
            assertEquals(2, pipeline.onExit().get(20, TimeUnit.SECONDS).size());
            a.close();
            b.close();
            pipeline.close();
        }
        assertNoThreads("gcp");
    }
}
