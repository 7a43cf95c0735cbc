package io.dualpipe.core.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Review 19 of LogLimiter (0f9fe28) under contention: however many threads count events at once,
 * exactly perWindow are logged per window, and the first one logged in the next window reports
 * every event that was not, so no count is lost or doubled.
 */
class Review19LogLimiterTest {
    private static final int THREADS = 8;
    private static final int PER_THREAD = 20_000;

    @Test
    @Timeout(60)
    void contendedAcquiresLogExactlyTheLimitAndCountEveryOtherEvent() throws Exception {
        for (int run = 0; run < 10; run++) {
            AtomicLong now = new AtomicLong(5);
            LogLimiter limiter = new LogLimiter(20, Duration.ofMinutes(1), now::get);
            AtomicLong logged = new AtomicLong();
            AtomicLong reportedSkipped = new AtomicLong();
            CyclicBarrier go = new CyclicBarrier(THREADS);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Thread th = new Thread(() -> {
                    try {
                        go.await(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 0; i < PER_THREAD; i++) {
                        long n = limiter.acquire("k");
                        if (n >= 0) {
                            logged.incrementAndGet();
                            reportedSkipped.addAndGet(n);
                        }
                    }
                });
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
            assertEquals(20, logged.get());
            assertEquals(0, reportedSkipped.get());
            now.addAndGet(Duration.ofMinutes(1).toNanos());
            assertEquals((long) THREADS * PER_THREAD - 20, limiter.acquire("k"), "the next window's first line counts every skipped event");
            assertEquals(0, limiter.acquire("k"));
        }
    }

    /** A clock that goes backwards (it cannot with nanoTime, but a wrap is arithmetic) never stalls logging for good. */
    @Test
    void aNanoTimeWrapKeepsTheWindowArithmeticRight() {
        AtomicLong now = new AtomicLong(Long.MAX_VALUE - 10);
        LogLimiter limiter = new LogLimiter(1, Duration.ofSeconds(1), now::get);
        assertEquals(0, limiter.acquire("k"));
        assertEquals(-1, limiter.acquire("k"));
        now.addAndGet(Duration.ofSeconds(1).toNanos()); // overflows past Long.MAX_VALUE
        assertEquals(1, limiter.acquire("k"));
    }
}
