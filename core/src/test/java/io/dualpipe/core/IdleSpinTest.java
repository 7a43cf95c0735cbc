package io.dualpipe.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loops made with an idle spin ({@link EventLoop#create(String, Duration)}): they poll their selector
 * before sleeping, and must still see every byte, task, timer and close that arrives meanwhile.
 * A spin of milliseconds makes nearly every hand-over land inside a spin.
 */
class IdleSpinTest {

    @Test
    @Timeout(30)
    void badSpinsAreRefusedByNameAndRuleAndStartNoThread() {
        InvalidArgumentException nul = assertThrows(InvalidArgumentException.class, () -> EventLoop.create("spin-bad", null));
        assertTrue(nul.getMessage().contains("idleSpin"), nul.getMessage());
        InvalidArgumentException neg = assertThrows(InvalidArgumentException.class,
                () -> EventLoop.create("spin-bad", Duration.ofMillis(-1)));
        assertEquals("idleSpin < 0: PT-0.001S", neg.getMessage());
        InvalidArgumentException big = assertThrows(InvalidArgumentException.class,
                () -> EventLoopGroup.create(2, "spin-bad", Duration.ofMillis(11)));
        assertTrue(big.getMessage().startsWith("idleSpin > 10 ms: PT0.011S"), big.getMessage());
        assertThrows(InvalidArgumentException.class, () -> EventLoopGroup.create(0, "spin-bad", Duration.ZERO));
        assertFalse(TestSupport.threadAlive("spin-bad"), "no loop thread started");
        assertFalse(TestSupport.threadAlive("spin-bad-0"), "no group thread started");
    }

    @Test
    @Timeout(60)
    void bytesThroughAPipeArriveWholeAndInOrder() throws Exception {
        for (Duration spin : new Duration[] {Duration.ZERO, Duration.ofNanos(50_000), Duration.ofMillis(10)}) {
            try (EventLoop loop = EventLoop.create("spin-pipe", spin)) {
                FdStreamTest.bulkThroughPipe(loop, 7);
            }
        }
    }

    /** Tasks handed over during a spin publish no "asleep" and write no eventfd: none may be stranded. */
    @Test
    @Timeout(60)
    void tasksHandedOverFromOtherThreadsAllRun() throws Exception {
        try (EventLoop loop = EventLoop.create("spin-tasks", Duration.ofMillis(2))) {
            AtomicInteger ran = new AtomicInteger();
            int producers = 4;
            int each = 20_000;
            CountDownLatch done = new CountDownLatch(producers * each);
            Thread[] threads = new Thread[producers];
            for (int t = 0; t < producers; t++) {
                threads[t] = new Thread(() -> {
                    for (int i = 0; i < each; i++) {
                        loop.execute(() -> {
                            ran.incrementAndGet();
                            done.countDown();
                        });
                        if (i % 1000 == 0) {
                            Thread.yield(); // let the loop run dry and spin between bursts
                        }
                    }
                });
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertTrue(done.await(20, TimeUnit.SECONDS), "ran " + ran.get() + " of " + producers * each);
            // One at a time too: each lands on a loop that is spinning or asleep, never in between.
            for (int i = 0; i < 2_000; i++) {
                CompletableFuture<Void> one = new CompletableFuture<>();
                loop.execute(() -> one.complete(null));
                one.get(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Timeout(30)
    void timersFireNotBeforeTheirDelayWhileTheLoopSpins() throws Exception {
        try (EventLoop loop = EventLoop.create("spin-timers", Duration.ofMillis(10))) {
            for (int delayMs : new int[] {1, 3, 20, 50}) {
                CompletableFuture<Long> fired = new CompletableFuture<>();
                long start = System.nanoTime();
                loop.schedule(() -> fired.complete(System.nanoTime() - start), delayMs, TimeUnit.MILLISECONDS);
                long tookNanos = fired.get(5, TimeUnit.SECONDS);
                assertTrue(tookNanos >= TimeUnit.MILLISECONDS.toNanos(delayMs),
                        "timer of " + delayMs + " ms fired after " + tookNanos + " ns");
            }
        }
    }

    /** close() wakes the selector once; a spin that polls it away must still see the close and end. */
    @Test
    @Timeout(60)
    void closeFromAnotherThreadEndsASpinningLoop() throws Exception {
        for (int i = 0; i < 200; i++) {
            EventLoop loop = EventLoop.create("spin-close", Duration.ofMillis(10));
            CompletableFuture<Void> ran = new CompletableFuture<>();
            loop.execute(() -> ran.complete(null));
            ran.get(5, TimeUnit.SECONDS); // the loop is now spinning (or about to) on an empty queue
            loop.close();
            assertTrue(loop.isClosed());
            loop.terminationFuture().get(5, TimeUnit.SECONDS);
        }
        TestSupport.await("spin-close threads gone", () -> !TestSupport.threadAlive("spin-close"));
    }

    @Test
    @Timeout(30)
    void aGroupOfSpinningLoopsServesEachLoop() throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(2, "spin-group", Duration.ofNanos(100_000))) {
            for (EventLoop loop : group.loops()) {
                CompletableFuture<String> where = new CompletableFuture<>();
                loop.execute(() -> where.complete(Thread.currentThread().getName()));
                assertTrue(where.get(5, TimeUnit.SECONDS).startsWith("spin-group-"));
            }
        }
        TestSupport.await("spin-group threads gone", () -> !TestSupport.threadAlive("spin-group-0") && !TestSupport.threadAlive("spin-group-1"));
    }
}
