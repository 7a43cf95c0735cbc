package io.dualpipe.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLoopGroupTest {
    private static final IoHandler NO_OP = new IoHandler() {
        public void ready(int readyOps) {
        }

        public void loopClosed(LoopClosedException cause) {
        }
    };

    private static List<Thread> threadsOf(String group) {
        List<Thread> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(group + "-")) {
                out.add(t);
            }
        }
        return out;
    }

    @Test
    void aGroupOfNoLoopsIsRefusedNamingTheValue() {
        assertEquals("loops <= 0: 0",
                assertThrows(InvalidArgumentException.class, () -> EventLoopGroup.create(0, "elg-zero")).getMessage());
        assertEquals("loops <= 0: -3",
                assertThrows(InvalidArgumentException.class, () -> EventLoopGroup.create(-3, "elg-zero")).getMessage());
        assertEquals("name is null",
                assertThrows(InvalidArgumentException.class, () -> EventLoopGroup.create(2, null)).getMessage());
        assertTrue(threadsOf("elg-zero").isEmpty());
    }

    @Test
    @Timeout(30)
    void nextGoesRoundRobinOverLoopsOfTheirOwnThreads() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(3, "elg-rr")) {
            List<EventLoop> loops = group.loops();
            assertEquals(3, loops.size());
            assertEquals("elg-rr", group.name());
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 3; i++) {
                    assertSame(loops.get(i), group.next(), "round " + round + ", loop " + i);
                }
            }
            Set<String> names = new HashSet<>();
            for (EventLoop loop : loops) {
                CompletableFuture<String> name = new CompletableFuture<>();
                loop.execute(() -> name.complete(Thread.currentThread().getName()));
                names.add(name.get(10, TimeUnit.SECONDS));
            }
            assertEquals(Set.of("elg-rr-0", "elg-rr-1", "elg-rr-2"), names);
            assertThrows(UnsupportedOperationException.class, () -> loops.remove(0));
        }
    }

    @Test
    @Timeout(30)
    void theLoopsRunAtTheSameTime() throws Exception {
        // Two tasks that each wait for the other: one thread serving both would never get past the barrier.
        try (EventLoopGroup group = EventLoopGroup.create(2, "elg-par")) {
            CyclicBarrier both = new CyclicBarrier(2);
            List<CompletableFuture<Void>> met = new ArrayList<>();
            for (EventLoop loop : group.loops()) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                met.add(f);
                loop.execute(() -> {
                    try {
                        both.await(10, TimeUnit.SECONDS);
                        f.complete(null);
                    } catch (Exception e) {
                        f.completeExceptionally(e);
                    }
                });
            }
            for (CompletableFuture<Void> f : met) {
                f.get(20, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Timeout(30)
    void closeEndsEveryThreadAndGivesEveryFdBack() throws Exception {
        SortedMap<Integer, String> before = TestSupport.fdSnapshot();
        EventLoopGroup group = EventLoopGroup.create(4, "elg-close");
        assertEquals(4, threadsOf("elg-close").size());
        LoopFuture<Void> ended = group.terminationFuture();
        assertFalse(ended.isDone());
        group.close();
        assertTrue(ended.isDone(), "close() returned before every loop ended");
        assertTrue(threadsOf("elg-close").isEmpty(), "threads left: " + threadsOf("elg-close"));
        TestSupport.assertFdsBackTo(before);
        assertTrue(group.isClosed());
        for (EventLoop loop : group.loops()) {
            assertTrue(loop.isClosed());
        }
        group.close(); // idempotent
        group.shutdown().get(10, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(30)
    void aClosedGroupRefusesWorkWithATypedError() throws Exception {
        EventLoopGroup group = EventLoopGroup.create(2, "elg-closed");
        EventLoop loop = group.next();
        io.dualpipe.core.Timeout never = loop.schedule(() -> { }, 1, TimeUnit.HOURS);
        group.shutdown().get(10, TimeUnit.SECONDS);
        LoopClosedException e = assertThrows(LoopClosedException.class, group::next);
        assertEquals("event loop group 'elg-closed' is closed", e.getMessage());
        assertThrows(LoopClosedException.class, () -> loop.execute(() -> { }));
        assertTrue(never.isDone(), "a pending timer outlived its loop");
        // What a loop hands out as a future fails through the future, typed.
        FdChannel[] pipe = FdChannel.pipe();
        try {
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> loop.register(pipe[0], SelectionKey.OP_READ, NO_OP).get(10, TimeUnit.SECONDS));
            assertInstanceOf(LoopClosedException.class, failed.getCause());
        } finally {
            pipe[0].close();
            pipe[1].close();
        }
        assertTrue(threadsOf("elg-closed").isEmpty());
    }

    @Test
    @Timeout(30)
    void aLoopOfAGroupClosesOnlyWithItsGroup() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(2, "elg-own")) {
            EventLoop loop = group.loops().get(1);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, loop::close);
            assertEquals("event loop 'elg-own-1' belongs to the group 'elg-own' and closes with it: close the group", e.getMessage());
            assertFalse(loop.isClosed());
            CompletableFuture<Boolean> ran = new CompletableFuture<>();
            loop.execute(() -> ran.complete(loop.inEventLoop()));
            assertTrue(ran.get(10, TimeUnit.SECONDS));
        }
        assertTrue(threadsOf("elg-own").isEmpty());
    }

    @Test
    @Timeout(30)
    void terminationFuturesAreFreshPerCall() throws Exception {
        EventLoopGroup group = EventLoopGroup.create(2, "elg-fresh");
        LoopFuture<Void> mine = group.terminationFuture();
        assertNotSame(mine, group.terminationFuture());
        mine.cancel(false);
        LoopFuture<Void> shut = group.shutdown();
        shut.complete(null); // a caller completing its copy early tells nobody else the group ended
        shut.obtrudeException(new IllegalStateException("poisoned"));
        group.terminationFuture().get(10, TimeUnit.SECONDS);
        group.shutdown().get(10, TimeUnit.SECONDS);
        assertTrue(mine.isCancelled());
        group.close();
        assertTrue(threadsOf("elg-fresh").isEmpty());
    }

    @Test
    @Timeout(30)
    void aLoopThreadClosingItsOwnGroupDoesNotBlock() throws Exception {
        EventLoopGroup group = EventLoopGroup.create(2, "elg-self");
        CompletableFuture<Boolean> returned = new CompletableFuture<>();
        group.loops().get(0).execute(() -> {
            group.close();
            returned.complete(group.isClosed());
        });
        assertTrue(returned.get(10, TimeUnit.SECONDS));
        group.terminationFuture().get(10, TimeUnit.SECONDS);
        group.close();
        assertTrue(threadsOf("elg-self").isEmpty());
    }

    @Test
    @Timeout(30)
    void blockingOnAnotherLoopsFutureFromALoopFailsFast() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(2, "elg-block")) {
            LoopFuture<String> never = group.loops().get(1).newFuture();
            CompletableFuture<Throwable> seen = new CompletableFuture<>();
            group.loops().get(0).execute(() -> {
                try {
                    never.get();
                    seen.complete(null);
                } catch (Throwable t) {
                    seen.complete(t);
                }
            });
            assertInstanceOf(BlockingOnLoopException.class, seen.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(30)
    void theSharedLoopStaysOneLoopAndOpen() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(2, "elg-shared")) {
            for (EventLoop loop : group.loops()) {
                assertNotSame(EventLoop.shared(), loop);
            }
        }
        CompletableFuture<String> name = new CompletableFuture<>();
        EventLoop.shared().execute(() -> name.complete(Thread.currentThread().getName()));
        assertEquals("dualpipe-shared", name.get(10, TimeUnit.SECONDS));
    }
}
