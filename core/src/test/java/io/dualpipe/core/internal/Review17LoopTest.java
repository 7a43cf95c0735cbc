package io.dualpipe.core.internal;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.TestSupport;
import io.dualpipe.core.Timeout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Review 17: the loop split into SingleThreadEventLoop + TaskQueue + LoopTimers + LoopRegistrations
 * and the selector into EpollSelector + EpollKeyTable (merge 4ba344d) must behave exactly as before:
 * no lost wakeup, no timer or registration left behind by a close, no event for a recycled slot
 * reaching the new key, nothing leaked.
 */
class Review17LoopTest {
    private static final IoHandler IGNORE = new IoHandler() {
        @Override
        public void ready(int readyOps) {
        }

        @Override
        public void loopClosed(LoopClosedException cause) {
        }
    };

    /** {@link TestSupport#fdSnapshot()} less sockets (the test JVM may open one of its own; these tests make none). */
    static SortedMap<Integer, String> ours() {
        SortedMap<Integer, String> m = TestSupport.fdSnapshot();
        m.values().removeIf(t -> t.startsWith("socket:"));
        return m;
    }

    /**
     * Round trips from other threads while the loop keeps going to sleep: with no timer (select
     * blocks for ever) and with one an hour away (select blocks for an hour). A task that misses the
     * wakeup waits for that, and the 10-second bound on each round trip catches it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @org.junit.jupiter.api.Timeout(120)
    void aTaskFromAnotherThreadNeverWaitsForATimerOrAnEvent(boolean farTimer) throws Exception {
        SortedMap<Integer, String> before = ours();
        SingleThreadEventLoop loop = new SingleThreadEventLoop("review17-wake", false);
        try {
            Timeout far = farTimer ? loop.schedule(() -> { }, 1, TimeUnit.HOURS) : null;
            AtomicReference<Throwable> error = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                int id = p;
                Thread t = new Thread(() -> {
                    try {
                        for (int i = 0; i < 4000; i++) {
                            CompletableFuture<Void> f = new CompletableFuture<>();
                            if ((i + id) % 3 == 0) {
                                // a timer from another thread: due at once, it must not wait either
                                loop.schedule(() -> f.complete(null), 0, TimeUnit.NANOSECONDS);
                            } else {
                                loop.execute(() -> f.complete(null));
                            }
                            try {
                                f.get(10, TimeUnit.SECONDS);
                            } catch (java.util.concurrent.TimeoutException e) {
                                throw new AssertionError("round trip " + i + " of thread " + id
                                        + " not run within 10 s: a lost wakeup", e);
                            }
                        }
                    } catch (Throwable e) {
                        error.compareAndSet(null, e);
                    }
                }, "review17-producer-" + p);
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join(100_000);
                assertFalse(t.isAlive());
            }
            assertNull(error.get(), () -> String.valueOf(error.get()));
            if (far != null) {
                assertFalse(far.isDone());
            }
        } finally {
            loop.close();
        }
        assertFalse(TestSupport.threadAlive("review17-wake"));
        assertEquals(before, ours());
    }

    /**
     * Timers scheduled from four threads (due now, soon, in an hour) while another thread closes the
     * loop: each schedule either throws LoopClosedException or returns a timer that ran or was
     * cancelled by the close; none is left pending, no thread or fd is left.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void timersScheduledFromOtherThreadsRacingCloseAreNeverLeftPending() throws Exception {
        SortedMap<Integer, String> before = ours();
        for (int round = 0; round < 30; round++) {
            String name = "review17-timers-" + round;
            SingleThreadEventLoop loop = new SingleThreadEventLoop(name, false);
            ConcurrentLinkedQueue<Timeout> timers = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<AtomicBoolean> ranFlags = new ConcurrentLinkedQueue<>();
            AtomicInteger scheduled = new AtomicInteger();
            AtomicReference<Throwable> error = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                int id = p;
                Thread t = new Thread(() -> {
                    long[] delays = {0, 1_000_000, TimeUnit.HOURS.toNanos(1)};
                    for (int i = 0; ; i++) {
                        try {
                            AtomicBoolean ran = new AtomicBoolean();
                            Timeout to = loop.schedule(() -> ran.set(true), delays[(i + id) % 3], TimeUnit.NANOSECONDS);
                            timers.add(to);
                            scheduled.incrementAndGet();
                        } catch (LoopClosedException e) {
                            return;
                        } catch (Throwable e) {
                            error.compareAndSet(null, e);
                            return;
                        }
                    }
                }, "review17-scheduler-" + p);
                threads.add(t);
                t.start();
            }
            int target = 200 + round * 300;
            TestSupport.await("timers scheduled", Duration.ofSeconds(30), () -> scheduled.get() >= target);
            Thread closer = new Thread(loop::close, "review17-closer");
            closer.start();
            closer.join(30_000);
            assertFalse(closer.isAlive());
            for (Thread t : threads) {
                t.join(30_000);
                assertFalse(t.isAlive(), "a scheduler never heard that the loop closed");
            }
            assertNull(error.get(), () -> String.valueOf(error.get()));
            assertTrue(loop.isTerminated());
            int pending = 0;
            for (Timeout to : timers) {
                if (!to.isDone()) {
                    pending++;
                }
            }
            assertEquals(0, pending, "round " + round + ": timers left pending after the close, of " + timers.size());
            assertFalse(TestSupport.threadAlive(name));
        }
        assertEquals(before, ours());
    }

    /** A timer due now, cancelled from another thread as the loop runs it: it runs xor cancel() returns true. */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void cancelRacingRunDecidesExactlyOnce() throws Exception {
        SingleThreadEventLoop loop = new SingleThreadEventLoop("review17-cancel", false);
        try {
            int n = 30_000;
            AtomicInteger ranButCancelled = new AtomicInteger();
            AtomicInteger neither = new AtomicInteger();
            List<CompletableFuture<Void>> settled = new ArrayList<>();
            Random r = new Random(17);
            for (int i = 0; i < n; i++) {
                AtomicBoolean ran = new AtomicBoolean();
                CompletableFuture<Void> done = new CompletableFuture<>();
                Timeout to = loop.schedule(() -> {
                    ran.set(true);
                    done.complete(null);
                }, r.nextInt(4) == 0 ? 1_000 : 0, TimeUnit.NANOSECONDS);
                if (r.nextInt(2) == 0) {
                    Thread.onSpinWait();
                }
                boolean cancelled = to.cancel();
                if (cancelled) {
                    // the loop must never run it: a fence task queued after the cancel's hop proves it did not
                    CompletableFuture<Void> fence = new CompletableFuture<>();
                    loop.execute(() -> fence.complete(null));
                    fence.get(10, TimeUnit.SECONDS);
                    if (ran.get()) {
                        ranButCancelled.incrementAndGet();
                    }
                } else {
                    settled.add(done);
                }
                assertTrue(to.isDone());
            }
            for (CompletableFuture<Void> f : settled) {
                try {
                    f.get(10, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    neither.incrementAndGet();
                }
            }
            assertEquals(0, ranButCancelled.get(), "timers that ran although cancel() returned true");
            assertEquals(0, neither.get(), "timers whose cancel() returned false that never ran");
            CompletableFuture<Integer> pending = new CompletableFuture<>();
            loop.execute(() -> pending.complete(loop.pendingTimers()));
            assertEquals(0, pending.get(10, TimeUnit.SECONDS), "cancelled timers left in the heap");
        } finally {
            loop.close();
        }
    }

    /**
     * Registrations from three threads and the loop itself while another thread closes the loop:
     * every future completes, with a key or a typed error; no fd is left (the loop closes what it
     * registered, the test what was refused).
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void registrationsRacingCloseAlwaysCompleteTypedAndLeaveNoFd() throws Exception {
        SortedMap<Integer, String> before = ours();
        int totalKeys = 0;
        for (int round = 0; round < 30; round++) {
            String name = "review17-reg-" + round;
            SingleThreadEventLoop loop = new SingleThreadEventLoop(name, false);
            ConcurrentLinkedQueue<LoopFuture<SelectionKey>> futures = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<FdChannel> channels = new ConcurrentLinkedQueue<>();
            AtomicInteger started = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> error = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                Thread t = new Thread(() -> {
                    try {
                        // bounded: 3 threads x 300 pipes, far below the fd limit
                        for (int i = 0; i < 300 && !stop.get(); i++) {
                            FdChannel[] pipe = FdChannel.pipe();
                            channels.add(pipe[0]);
                            channels.add(pipe[1]);
                            futures.add(loop.register(pipe[0], SelectionKey.OP_READ, IGNORE));
                            futures.add(loop.register(pipe[1], 0, IGNORE));
                            started.incrementAndGet();
                            if (loop.isClosed() && started.get() % 8 == 0) {
                                break;
                            }
                        }
                    } catch (Throwable e) {
                        error.compareAndSet(null, e);
                    }
                }, "review17-registrar-" + p);
                threads.add(t);
                t.start();
            }
            // and from the loop thread, a registration per pass until it closes
            Runnable[] onLoop = new Runnable[1];
            AtomicInteger onLoopCount = new AtomicInteger();
            onLoop[0] = () -> {
                if (onLoopCount.incrementAndGet() > 300) {
                    return;
                }
                FdChannel[] pipe = FdChannel.pipe();
                channels.add(pipe[0]);
                channels.add(pipe[1]);
                futures.add(loop.register(pipe[0], SelectionKey.OP_READ, IGNORE));
                try {
                    loop.execute(onLoop[0]);
                } catch (LoopClosedException e) {
                    // the last drain is over
                }
            };
            loop.execute(onLoop[0]);
            int target = 20 + round * 5;
            TestSupport.await("registrations started", Duration.ofSeconds(30), () -> started.get() >= target);
            Thread closer = new Thread(loop::close, "review17-closer");
            closer.start();
            closer.join(30_000);
            assertFalse(closer.isAlive());
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
                assertFalse(t.isAlive());
            }
            assertNull(error.get(), () -> String.valueOf(error.get()));
            int keys = 0;
            for (LoopFuture<SelectionKey> f : futures) {
                try {
                    f.get(10, TimeUnit.SECONDS);
                    keys++;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof LoopClosedException) && !(e.getCause() instanceof ChannelClosedException)) {
                        fail("untyped registration failure: " + e.getCause(), e.getCause());
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    fail("round " + round + ": a registration future never completed");
                }
            }
            totalKeys += keys;
            for (FdChannel c : channels) {
                c.close(); // those the loop refused; closing a closed channel is harmless
            }
            assertFalse(TestSupport.threadAlive(name));
        }
        assertTrue(totalKeys > 0, "no registration ever won against the close: the test tested nothing");
        assertEquals(before, ours());
    }

    /**
     * Slot and fd-number reuse in the selector: one thread selects, another keeps registering
     * readable ("hot") pipes, cancelling and closing them, and registering empty ("cold") ones, which
     * take the hot keys' slots and fd numbers. A cold pipe is never readable, so an OP_READ
     * event on a cold key is an event for the recycled slot reaching the new key.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void anEventForARecycledSlotNeverReachesTheNewKey() throws Exception {
        SortedMap<Integer, String> before = ours();
        Selector selector = EpollSelectorProvider.INSTANCE.openSelector();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> misrouted = new AtomicReference<>();
        AtomicInteger hotEvents = new AtomicInteger();
        Thread selecting = new Thread(() -> {
            try {
                while (!stop.get()) {
                    selector.select(k -> {
                        Object a = k.attachment();
                        if ("cold".equals(a)) {
                            misrouted.compareAndSet(null, "OP_READ " + k.readyOps() + " on a cold key, fd "
                                    + ((FdChannel) k.channel()).getFD());
                        } else {
                            hotEvents.incrementAndGet();
                        }
                    }, 50);
                }
            } catch (Throwable t) {
                misrouted.compareAndSet(null, "selector thread: " + t);
            }
        }, "review17-selecting");
        selecting.start();
        Random r = new Random(17);
        List<SelectionKey> hot = new ArrayList<>();
        List<FdChannel[]> hotPipes = new ArrayList<>();
        List<SelectionKey> cold = new ArrayList<>();
        List<FdChannel[]> coldPipes = new ArrayList<>();
        try {
            ByteBuffer one = ByteBuffer.allocateDirect(1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            for (int i = 0; i < 40_000 && misrouted.get() == null && System.nanoTime() - deadline < 0; i++) {
                while (hot.size() < 16) {
                    FdChannel[] p = FdChannel.pipe();
                    one.clear();
                    p[1].write(one);
                    hot.add(p[0].register(selector, SelectionKey.OP_READ, "hot"));
                    hotPipes.add(p);
                }
                // Cancel a hot key whose event the selecting thread is likely holding, then at once
                // register cold keys: the first takes the slot just freed (the free list is LIFO).
                int k = r.nextInt(hot.size());
                SelectionKey key = hot.remove(k);
                FdChannel[] hp = hotPipes.remove(k);
                key.cancel();
                for (int c = 0; c < 2; c++) {
                    FdChannel[] cp = FdChannel.pipe();
                    coldPipes.add(cp);
                    cold.add(cp[0].register(selector, SelectionKey.OP_READ, "cold"));
                }
                hp[0].close();
                hp[1].close();
                while (cold.size() > 32) {
                    int j = r.nextInt(cold.size());
                    cold.remove(j).cancel();
                    FdChannel[] cp = coldPipes.remove(j);
                    cp[0].close();
                    cp[1].close();
                }
            }
        } finally {
            stop.set(true);
            selector.wakeup();
            selecting.join(30_000);
            selector.close();
            for (FdChannel[] p : hotPipes) {
                p[0].close();
                p[1].close();
            }
            for (FdChannel[] p : coldPipes) {
                p[0].close();
                p[1].close();
            }
        }
        assertNull(misrouted.get());
        assertTrue(hotEvents.get() > 0, "the hot pipes never fired: the test tested nothing");
        assertEquals(before, ours());
    }

    /**
     * A loop closed while three threads flood it with tasks, timers and registrations, many times:
     * every registration future completes, every timer ends done, the thread ends and no fd is left.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void closeWhileTasksTimersAndRegistrationsAreInFlightLeavesNothing() throws Exception {
        SortedMap<Integer, String> before = ours();
        for (int round = 0; round < 30; round++) {
            String name = "review17-flood-" + round;
            SingleThreadEventLoop loop = new SingleThreadEventLoop(name, false);
            ConcurrentLinkedQueue<LoopFuture<SelectionKey>> regs = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Timeout> timers = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<FdChannel> channels = new ConcurrentLinkedQueue<>();
            AtomicInteger work = new AtomicInteger();
            AtomicInteger tasksRun = new AtomicInteger();
            AtomicReference<Throwable> error = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                int id = p;
                Thread t = new Thread(() -> {
                    try {
                        for (int i = 0; ; i++) {
                            switch ((i + id) % 3) {
                                case 0 -> loop.execute(tasksRun::incrementAndGet);
                                case 1 -> timers.add(loop.schedule(tasksRun::incrementAndGet, i % 2 == 0 ? 0 : 10_000_000,
                                        TimeUnit.NANOSECONDS));
                                default -> {
                                    if (channels.size() > 1200) {
                                        loop.execute(tasksRun::incrementAndGet); // bounded: no more pipes
                                        break;
                                    }
                                    if (loop.isClosed()) {
                                        // register() answers a closed loop with a failed future, never a throw
                                        FdChannel[] pipe = FdChannel.pipe();
                                        channels.add(pipe[0]);
                                        channels.add(pipe[1]);
                                        LoopFuture<SelectionKey> f = loop.register(pipe[0], SelectionKey.OP_READ, IGNORE);
                                        regs.add(f);
                                        return;
                                    }
                                    FdChannel[] pipe = FdChannel.pipe();
                                    channels.add(pipe[0]);
                                    channels.add(pipe[1]);
                                    regs.add(loop.register(pipe[0], SelectionKey.OP_READ, IGNORE));
                                }
                            }
                            work.incrementAndGet();
                        }
                    } catch (LoopClosedException e) {
                        // refused: the close won
                    } catch (Throwable e) {
                        error.compareAndSet(null, e);
                    }
                }, "review17-flooder-" + p);
                threads.add(t);
                t.start();
            }
            int target = 100 + round * 200;
            TestSupport.await("work in flight", Duration.ofSeconds(30), () -> work.get() >= target);
            loop.close();
            for (Thread t : threads) {
                t.join(30_000);
                assertFalse(t.isAlive());
            }
            assertNull(error.get(), () -> String.valueOf(error.get()));
            for (LoopFuture<SelectionKey> f : regs) {
                try {
                    f.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof LoopClosedException || e.getCause() instanceof ChannelClosedException,
                            () -> "untyped: " + e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    fail("round " + round + ": a registration never completed");
                }
            }
            for (Timeout to : timers) {
                assertTrue(to.isDone(), "round " + round + ": a timer left pending");
            }
            for (FdChannel c : channels) {
                c.close();
            }
            assertFalse(TestSupport.threadAlive(name));
            assertTrue(loop.isTerminated());
        }
        assertEquals(before, ours());
    }
}
