package io.dualpipe.core.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 20 of the keyed LogLimiter (94e0319), adversarial: a source that makes a fresh key per
 * event (a new connection name, pid or listener each time) must not grow the key table without
 * bound, nor log more than the site's budget; the table empties with the window; one key's flood
 * leaves every other key its first events; the "not logged" count stays exact across keys and
 * threads.
 */
class Review20LogLimiterTest {
    private static final long MINUTE = Duration.ofMinutes(1).toNanos();

    private static int keys(LogLimiter l) throws Exception {
        Field f = LogLimiter.class.getDeclaredField("logged");
        f.setAccessible(true);
        Map<?, ?> m = (Map<?, ?>) f.get(l);
        synchronized (l) {
            return m.size();
        }
    }

    @Test
    @Timeout(30)
    void freshKeysPerEventStayBoundedInMemoryAndInLines() throws Exception {
        AtomicLong now = new AtomicLong(1);
        LogLimiter l = new LogLimiter(20, Duration.ofMinutes(1), now::get);
        for (int window = 0; window < 3; window++) {
            long logged = 0;
            for (int i = 0; i < 200_000; i++) {
                if (l.acquire("conn#" + window + "/" + i) >= 0) {
                    logged++;
                }
            }
            // The site's total, 100, is spent by the first 100 keys; the next 156 keys and the shared
            // bucket of every key past 256 still get their first event: 257 in all, however many keys.
            assertEquals(LogLimiter.MAX_KEYS + 1, logged, "window " + window + ": the site's bound");
            int size = keys(l);
            assertTrue(size <= LogLimiter.MAX_KEYS + 1, "window " + window + ": " + size + " keys kept");
            now.addAndGet(MINUTE);
        }
        l.acquire("after");
        assertEquals(1, keys(l), "the table empties when the window turns");
    }

    @Test
    @Timeout(30)
    void oneKeysFloodLeavesOtherKeysTheirFirstEventsAndTheCountStaysExact() {
        AtomicLong now = new AtomicLong(1);
        LogLimiter l = new LogLimiter(20, Duration.ofMinutes(1), now::get);
        for (int i = 0; i < 20; i++) {
            assertEquals(0, l.acquire("flood"));
        }
        for (int i = 0; i < 1_000; i++) {
            assertEquals(-1, l.acquire("flood"));
        }
        assertEquals(1_000, l.acquire("quiet"), "another key's first event logs, and says how many were not");
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 20; i++) {
                assertTrue(l.acquire("other" + k) >= 0, "key other" + k + " event " + i);
            }
        }
        // 20 + 1 + 60 logged: 19 left for the site; a fifth flooding key would spend them.
        for (int i = 0; i < 19; i++) {
            assertEquals(0, l.acquire("fifth"));
        }
        assertEquals(-1, l.acquire("fifth"));
        assertEquals(1, l.acquire("sixth"), "the site's budget is spent, but a new key's first event still logs");
        assertEquals(-1, l.acquire("sixth"), "and its second does not");
        now.addAndGet(MINUTE);
        assertEquals(1, l.acquire("sixth"), "the next window counts what was not logged");
    }

    /** Eight threads, each with keys of its own, some shared: the site's budget plus first events per window, no count lost. */
    @Test
    @Timeout(60)
    void contendedFreshKeysLogTheSiteBudgetAndCountEveryOtherEvent() throws Exception {
        int threads = 8;
        int perThread = 20_000;
        for (int run = 0; run < 5; run++) {
            AtomicLong now = new AtomicLong(7);
            LogLimiter l = new LogLimiter(20, Duration.ofMinutes(1), now::get);
            AtomicLong logged = new AtomicLong();
            AtomicLong reported = new AtomicLong();
            CyclicBarrier go = new CyclicBarrier(threads);
            List<Thread> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        go.await(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 0; i < perThread; i++) {
                        Object key = i % 3 == 0 ? "shared" + (i % 7) : id + ":" + i;
                        long n = l.acquire(key);
                        if (n >= 0) {
                            logged.incrementAndGet();
                            reported.addAndGet(n);
                        }
                    }
                });
                all.add(th);
                th.start();
            }
            for (Thread th : all) {
                th.join();
            }
            // The total, then first events of keys met after it: at most one per key told apart.
            assertTrue(logged.get() >= 100 && logged.get() <= 100 + LogLimiter.MAX_KEYS + 1, "logged " + logged.get());
            assertTrue(keys(l) <= LogLimiter.MAX_KEYS + 1);
            now.addAndGet(MINUTE);
            long rest = l.acquire("next");
            assertEquals((long) threads * perThread - logged.get(), reported.get() + rest, "every event not logged is counted once");
        }
    }
}
