package io.dualpipe.core;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.nio.channels.SelectionKey.OP_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLoopTest {
    private static final String NAME = "elt-loop";
    private EventLoop loop;
    private ListAppender<ILoggingEvent> logged;
    private Logger loopLogger;

    @BeforeEach
    void start() {
        loop = EventLoop.create(NAME);
        loopLogger = (Logger) LoggerFactory.getLogger(SingleThreadEventLoop.class);
        logged = new ListAppender<>();
        logged.start();
        loopLogger.addAppender(logged);
    }

    @AfterEach
    void stop() {
        loop.close();
        loopLogger.detachAppender(logged);
        assertFalse(TestSupport.threadAlive(NAME), "loop thread left behind");
    }

    private static IoHandler handler(Runnable onReady) {
        return new IoHandler() {
            public void ready(int ops) {
                onReady.run();
            }

            public void loopClosed(LoopClosedException cause) {
            }
        };
    }

    /** Completes once every task handed to the loop before it has run. */
    private void drain() throws Exception {
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(null));
        f.get(10, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(10)
    void tasksRunInOrderOnTheLoopThread() throws Exception {
        List<Integer> order = new ArrayList<>();
        List<Boolean> onLoop = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            int n = i;
            loop.execute(() -> {
                order.add(n);
                onLoop.add(loop.inEventLoop() && Thread.currentThread().getName().equals(NAME));
            });
        }
        drain();
        assertEquals(10_000, order.size());
        for (int i = 0; i < order.size(); i++) {
            assertEquals(i, order.get(i));
        }
        assertFalse(onLoop.contains(false));
        assertFalse(loop.inEventLoop());
    }

    @Test
    @Timeout(30)
    void executeFromManyThreadsKeepsEachThreadsOrder() throws Exception {
        int threads = 8;
        int perThread = 20_000;
        int[] last = new int[threads];
        java.util.Arrays.fill(last, -1);
        AtomicInteger outOfOrder = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        List<Thread> producers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread p = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    int n = i;
                    loop.execute(() -> {
                        if (last[id] != n - 1) {
                            outOfOrder.incrementAndGet();
                        }
                        last[id] = n;
                        ran.incrementAndGet();
                    });
                }
            });
            producers.add(p);
            p.start();
        }
        for (Thread p : producers) {
            p.join(20_000);
        }
        drain();
        assertEquals(threads * perThread, ran.get());
        assertEquals(0, outOfOrder.get());
    }

    @Test
    @Timeout(10)
    void timersRunInDeadlineOrderAndNotEarly() throws Exception {
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch all = new CountDownLatch(6);
        long t0 = System.nanoTime();
        long[] ranAt = new long[6];
        int[] delays = {120, 30, 90, 0, 60, 75};
        // schedule() fixes a deadline from the clock at the call, so a caller stalled by a busy
        // machine moves it later: each deadline is known to lie in [earliest, latest].
        long[] earliest = new long[6];
        long[] latest = new long[6];
        for (int i = 0; i < delays.length; i++) {
            int n = i;
            Runnable task = () -> {
                ranAt[n] = System.nanoTime();
                order.add(n);
                all.countDown();
            };
            if (i % 2 == 0) {
                earliest[n] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delays[n]);
                loop.schedule(task, delays[n], TimeUnit.MILLISECONDS);
                latest[n] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delays[n]);
            } else {
                loop.execute(() -> {
                    long delay = Math.max(0, delays[n] - TestSupport.millisSince(t0));
                    earliest[n] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
                    loop.schedule(task, delay, TimeUnit.MILLISECONDS);
                    latest[n] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
                });
            }
        }
        assertTrue(all.await(5, TimeUnit.SECONDS));
        // Unstalled, every window is apart from the others and this is the order [3, 1, 4, 5, 2, 0].
        for (int i = 0; i < delays.length; i++) {
            for (int j = 0; j < delays.length; j++) {
                if (latest[i] < earliest[j]) {
                    assertTrue(order.indexOf(i) < order.indexOf(j), "deadline order: timer " + i + " before timer " + j
                            + " (delays " + java.util.Arrays.toString(delays) + "), ran " + order);
                }
            }
            assertTrue(ranAt[i] >= earliest[i] - TimeUnit.MILLISECONDS.toNanos(1), "timer " + i + " ran early");
        }
    }

    @Test
    @Timeout(10)
    void cancelledTimersNeverRun() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        List<io.dualpipe.core.Timeout> timers = new ArrayList<>();
        // Hold the loop while scheduling and cancelling: on a busy machine this thread may lose
        // 30 ms, and a timer that already ran cannot be cancelled.
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(held.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 100; i++) {
            timers.add(loop.schedule(ran::incrementAndGet, 30, TimeUnit.MILLISECONDS));
        }
        for (int i = 0; i < 100; i += 2) {
            assertTrue(timers.get(i).cancel());
            assertTrue(timers.get(i).isDone());
            assertFalse(timers.get(i).cancel(), "second cancel");
        }
        release.countDown();
        // cancelled from the loop thread too
        CompletableFuture<Boolean> onLoop = new CompletableFuture<>();
        loop.execute(() -> {
            io.dualpipe.core.Timeout t = loop.schedule(ran::incrementAndGet, 10, TimeUnit.MILLISECONDS);
            onLoop.complete(t.cancel());
        });
        assertTrue(onLoop.get(5, TimeUnit.SECONDS));
        CompletableFuture<Void> sentinel = new CompletableFuture<>();
        loop.schedule(() -> sentinel.complete(null), 80, TimeUnit.MILLISECONDS);
        sentinel.get(5, TimeUnit.SECONDS);
        assertEquals(50, ran.get());
        for (int i = 1; i < 100; i += 2) {
            assertTrue(timers.get(i).isDone());
            assertFalse(timers.get(i).cancel(), "already ran");
        }
    }

    /** nanoTime() + a huge delay overflowed into the past, and the task ran at once. */
    @Test
    @Timeout(10)
    void hugeDelaysDoNotOverflowIntoThePast() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        io.dualpipe.core.Timeout a = loop.schedule(ran::incrementAndGet, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        io.dualpipe.core.Timeout b = loop.schedule(ran::incrementAndGet, Long.MAX_VALUE, TimeUnit.DAYS);
        CompletableFuture<io.dualpipe.core.Timeout> c = new CompletableFuture<>();
        loop.execute(() -> c.complete(loop.schedule(ran::incrementAndGet, Long.MAX_VALUE / 2, TimeUnit.MILLISECONDS)));
        CompletableFuture<Void> sentinel = new CompletableFuture<>();
        loop.schedule(() -> sentinel.complete(null), 50, TimeUnit.MILLISECONDS);
        sentinel.get(5, TimeUnit.SECONDS);
        assertEquals(0, ran.get(), "a timer due in centuries ran now");
        assertFalse(a.isDone());
        assertFalse(b.isDone());
        assertFalse(c.get().isDone());
        assertTrue(a.cancel());
        assertThrows(InvalidArgumentException.class, () -> loop.schedule(() -> { }, -1, TimeUnit.MILLISECONDS));
    }

    @Test
    @Timeout(10)
    void aThrowingTaskIsLoggedAndTheLoopGoesOn() throws Exception {
        loop.execute(() -> {
            throw new IllegalStateException("boom-task");
        });
        loop.schedule(() -> {
            throw new IllegalStateException("boom-timer");
        }, 1, TimeUnit.MILLISECONDS);
        CompletableFuture<Void> after = new CompletableFuture<>();
        loop.schedule(() -> after.complete(null), 20, TimeUnit.MILLISECONDS);
        after.get(5, TimeUnit.SECONDS);
        assertTrue(loggedThrowable("boom-task"), "task failure logged");
        assertTrue(loggedThrowable("boom-timer"), "timer failure logged");
    }

    @Test
    @Timeout(10)
    void aThrowingHandlerIsLoggedAndTheLoopGoesOn() throws Exception {
        FdChannel[] p = FdChannel.pipe();
        AtomicInteger calls = new AtomicInteger();
        CompletableFuture<Void> drained = new CompletableFuture<>();
        loop.register(p[0], OP_READ, handler(() -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom-handler");
            }
            try {
                p[0].read(ByteBuffer.allocate(16));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            drained.complete(null);
        })).get(5, TimeUnit.SECONDS);
        p[1].write(ByteBuffer.wrap(new byte[] {1}));
        drained.get(5, TimeUnit.SECONDS);
        assertTrue(calls.get() >= 2, "level-triggered: the unread byte is reported again");
        assertTrue(loggedThrowable("boom-handler"));
        drain();
        p[1].close();
    }

    private boolean loggedThrowable(String message) {
        synchronized (logged) { // AppenderBase.doAppend holds the appender's monitor; the list is a plain ArrayList
            return logged.list.stream().anyMatch(e -> e.getThrowableProxy() != null && message.equals(e.getThrowableProxy().getMessage()));
        }
    }

    @Test
    @Timeout(10)
    void registerFromAnotherThreadAndFromTheLoop() throws Exception {
        FdChannel[] a = FdChannel.pipe();
        FdChannel[] b = FdChannel.pipe();
        SelectionKey ka = loop.register(a[0], OP_READ, handler(() -> { })).get(5, TimeUnit.SECONDS);
        assertTrue(ka.isValid());
        CompletableFuture<LoopFuture<SelectionKey>> fromLoop = new CompletableFuture<>();
        loop.execute(() -> fromLoop.complete(loop.register(b[0], OP_READ, handler(() -> { }))));
        LoopFuture<SelectionKey> kb = fromLoop.get(5, TimeUnit.SECONDS);
        assertTrue(kb.isDone(), "on the loop thread register completes at once");
        assertTrue(kb.get().isValid());
        // a closed channel: the future fails, the loop does not
        FdChannel[] c = FdChannel.pipe();
        c[0].close();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> loop.register(c[0], OP_READ, handler(() -> { })).get(5, TimeUnit.SECONDS));
        assertInstanceOf(ChannelClosedException.class, e.getCause());
        c[1].close();
        for (FdChannel ch : List.of(a[1], b[1])) {
            ch.close();
        }
    }

    @Test
    @Timeout(10)
    void closeRunsPendingTasksThenRefusesWork() throws Exception {
        loop.close();
        var baseline = TestSupport.fdSnapshot();
        loop = EventLoop.create(NAME);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocking = new CountDownLatch(1);
        loop.execute(() -> {
            blocking.countDown();
            try {
                release.await(); // holds the loop so the next tasks stay queued
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(blocking.await(5, TimeUnit.SECONDS));
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 100; i++) {
            loop.execute(ran::incrementAndGet);
        }
        FdChannel[] p = FdChannel.pipe();
        LoopFuture<SelectionKey> queuedRegister = loop.register(p[0], OP_READ, handler(() -> { }));
        Thread closer = new Thread(loop::close, "elt-closer");
        closer.start();
        TestSupport.await("close begun", loop::isClosed);
        assertThrows(LoopClosedException.class, () -> loop.execute(() -> { }));
        release.countDown();
        closer.join(5000);
        assertFalse(closer.isAlive(), "close() returns once the loop ended");
        assertEquals(100, ran.get(), "tasks handed over before close all ran");
        ExecutionException e = assertThrows(ExecutionException.class, () -> queuedRegister.get(5, TimeUnit.SECONDS));
        assertInstanceOf(LoopClosedException.class, e.getCause());
        assertTrue(loop.terminationFuture().isDone());
        assertFalse(TestSupport.threadAlive(NAME));

        assertThrows(LoopClosedException.class, () -> loop.execute(() -> { }));
        assertThrows(LoopClosedException.class, () -> loop.schedule(() -> { }, 1, TimeUnit.SECONDS));
        e = assertThrows(ExecutionException.class, () -> loop.register(p[0], OP_READ, handler(() -> { })).get(5, TimeUnit.SECONDS));
        assertInstanceOf(LoopClosedException.class, e.getCause());
        loop.close(); // idempotent
        p[0].close();
        p[1].close();
        TestSupport.assertFdsBackTo(baseline);
    }

    @Test
    @Timeout(10)
    void closeFromTheLoopThreadItself() throws Exception {
        CompletableFuture<Void> closeReturned = new CompletableFuture<>();
        AtomicInteger after = new AtomicInteger();
        loop.execute(() -> {
            loop.close();
            closeReturned.complete(null); // close() on the loop returns at once
            loop.execute(after::incrementAndGet); // still accepted from the loop thread while closing
        });
        closeReturned.get(5, TimeUnit.SECONDS);
        loop.terminationFuture().get(5, TimeUnit.SECONDS);
        TestSupport.await("loop thread gone", () -> !TestSupport.threadAlive(NAME));
        assertEquals(1, after.get());
        assertTrue(loop.isClosed());
    }

    /** Work the loop thread hands itself after its last drain used to vanish without a trace. */
    @Test
    @Timeout(10)
    void executeOnTheLoopAfterItsLastDrainIsRefusedNotDropped() throws Exception {
        AtomicReference<Object> outcome = new AtomicReference<>();
        loop.terminationFuture().thenRun(() -> {
            try {
                loop.execute(() -> outcome.set("ran"));
                outcome.compareAndSet(null, "accepted");
            } catch (LoopClosedException e) {
                outcome.set(e);
            }
        });
        loop.close();
        Object got = outcome.get();
        if (!"ran".equals(got)) {
            assertInstanceOf(LoopClosedException.class, got, "accepted and then dropped: " + got);
        }
    }

    @Test
    @Timeout(10)
    void blockingOnAnIncompleteFutureFromTheLoopFailsAtOnce() throws Exception {
        CompletableFuture<List<Throwable>> result = new CompletableFuture<>();
        loop.execute(() -> {
            LoopFuture<String> pending = loop.newFuture();
            List<Throwable> thrown = new ArrayList<>();
            for (Runnable r : List.<Runnable>of(pending::join, () -> get(pending), () -> getTimed(pending))) {
                try {
                    r.run();
                } catch (Throwable t) {
                    thrown.add(t);
                }
            }
            LoopFuture<String> done = LoopFuture.completed("x");
            if (!"x".equals(done.join()) || !"x".equals(get(done))) {
                thrown.add(new AssertionError("completed future did not return"));
            }
            // derived stages are guarded too
            try {
                pending.thenApply(s -> s + "!").join();
            } catch (Throwable t) {
                thrown.add(t);
            }
            result.complete(thrown);
        });
        List<Throwable> thrown = result.get(5, TimeUnit.SECONDS);
        assertEquals(4, thrown.size(), thrown.toString());
        for (Throwable t : thrown) {
            assertInstanceOf(BlockingOnLoopException.class, t);
        }
        // off the loop, blocking is allowed
        LoopFuture<String> f = loop.newFuture();
        loop.schedule(() -> f.complete("late"), 20, TimeUnit.MILLISECONDS);
        assertEquals("late", f.get(5, TimeUnit.SECONDS));
    }

    private static <T> T get(LoopFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException | ExecutionException e) {
            throw new RuntimeException(e);
        }
    }

    private static <T> T getTimed(LoopFuture<T> f) {
        try {
            return f.get(1, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    @Timeout(10)
    void sharedLoopIsADaemonAndReused() throws Exception {
        EventLoop shared = EventLoop.shared();
        assertSame(shared, EventLoop.shared());
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        shared.execute(() -> thread.complete(Thread.currentThread()));
        Thread t = thread.get(5, TimeUnit.SECONDS);
        assertTrue(t.isDaemon());
        assertEquals("dualpipe-shared", t.getName());
        CompletableFuture<Thread> again = new CompletableFuture<>();
        EventLoop.shared().execute(() -> again.complete(Thread.currentThread()));
        assertSame(t, again.get(5, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(10)
    void theSharedLoopRefusesToBeClosed() throws Exception {
        EventLoop shared = EventLoop.shared();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, shared::close);
        assertTrue(e.getMessage().contains("shared loop cannot be closed"), e.getMessage());
        CompletableFuture<Boolean> alive = new CompletableFuture<>();
        shared.execute(() -> alive.complete(true));
        assertTrue(alive.get(5, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(10)
    void createdLoopsAreNotDaemonsAndLeaveNoThreadBehind() throws Exception {
        String name = "elt-short-lived";
        EventLoop l = EventLoop.create(name);
        CompletableFuture<Boolean> daemon = new CompletableFuture<>();
        l.execute(() -> daemon.complete(Thread.currentThread().isDaemon()));
        assertFalse(daemon.get(5, TimeUnit.SECONDS));
        assertTrue(TestSupport.threadAlive(name));
        l.close();
        assertFalse(TestSupport.threadAlive(name));
    }

    @Test
    @Timeout(10)
    void everyHandlerHearsLoopClosedAndItsChannelIsClosed() throws Exception {
        loop.close();
        var baseline = TestSupport.fdSnapshot();
        loop = EventLoop.create(NAME);
        List<FdChannel[]> pipes = new ArrayList<>();
        AtomicInteger told = new AtomicInteger();
        List<LoopClosedException> causes = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 20; i++) {
            FdChannel[] p = FdChannel.pipe();
            pipes.add(p);
            loop.register(p[0], OP_READ, new IoHandler() {
                public void ready(int ops) {
                }

                public void loopClosed(LoopClosedException cause) {
                    told.incrementAndGet();
                    causes.add(cause);
                }
            }).get(5, TimeUnit.SECONDS);
        }
        loop.close();
        assertEquals(20, told.get());
        assertEquals(20, causes.size());
        for (FdChannel[] p : pipes) {
            assertFalse(p[0].isOpen(), "the loop closes registered channels");
            p[1].close();
        }
        TestSupport.assertFdsBackTo(baseline);
    }

    /**
     * Something that interrupts the loop thread (a handler, a library) left the interrupt status set,
     * and every select then returned at once: the loop spun at 100% CPU.
     */
    @Test
    @Timeout(10)
    void anInterruptedLoopThreadDoesNotSpin() throws Exception {
        CompletableFuture<Long> tid = new CompletableFuture<>();
        loop.execute(() -> {
            tid.complete(Thread.currentThread().getId());
            Thread.currentThread().interrupt();
        });
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long id = tid.get(5, TimeUnit.SECONDS);
        drain();
        long cpu0 = mx.getThreadCpuTime(id);
        CompletableFuture<Void> waited = new CompletableFuture<>();
        loop.schedule(() -> waited.complete(null), 300, TimeUnit.MILLISECONDS);
        waited.get(5, TimeUnit.SECONDS);
        long cpuMs = (mx.getThreadCpuTime(id) - cpu0) / 1_000_000;
        assertTrue(cpuMs < 100, "the idle loop burnt " + cpuMs + " ms of CPU in 300 ms");
    }
}
