package io.dualpipe.core.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 22, adversarial: 8750542, a code-chosen key's first event per window passes the site total.
 * The bound (total + MAX_KEYS a window), the shared bucket past MAX_KEYS keys, and the exactness of
 * the "n not logged" count.
 */
class Review22LogLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000);

    /** Each of many keys floods: per window at most perWindow + MAX_KEYS are logged, whatever the order. */
    @Test
    @Timeout(10)
    void codeKeyedSiteLogsAtMostTotalPlusMaxKeysAWindow() {
        // The tightest case for the bound: perWindow == perKey, so one key spends the total.
        LogLimiter l = new LogLimiter(3, 3, Duration.ofMinutes(1), now::get);
        int logged = 0;
        for (int i = 0; i < 10; i++) { // key0 floods first and spends the total
            if (l.acquire("key0") >= 0) {
                logged++;
            }
        }
        for (int round = 0; round < 5; round++) {
            for (int k = 0; k < 2 * LogLimiter.MAX_KEYS; k++) {
                if (l.acquire("key" + k) >= 0) {
                    logged++;
                }
            }
        }
        assertTrue(logged <= 3 + LogLimiter.MAX_KEYS, "logged " + logged + " in one window, bound " + (3 + LogLimiter.MAX_KEYS));
        // and the bound is reached: key0's 3, then a first for each of the other 255 keys and the shared bucket
        assertEquals(3 + LogLimiter.MAX_KEYS, logged);
    }

    /** Keys past MAX_KEYS share one bucket: its first event passes the total once, the rest are counted. */
    @Test
    @Timeout(10)
    void keysPastTheMaximumShareOneFirstEvent() {
        LogLimiter l = new LogLimiter(1, 1, Duration.ofMinutes(1), now::get);
        for (int k = 0; k < LogLimiter.MAX_KEYS; k++) {
            assertTrue(l.acquire("key" + k) >= 0, "key" + k + "'s first event");
        }
        assertEquals(0, l.acquire("new1"), "the shared bucket's first event is logged");
        assertEquals(-1, l.acquire("new2"));
        assertEquals(-1, l.acquire("new3"));
        assertEquals(-1, l.acquire("key0"));
        now.addAndGet(Duration.ofMinutes(1).toNanos());
        assertEquals(3, l.acquire("new3"), "the note counts every event not logged since the last one logged");
    }

    /** notLogged is exact across first events logged past the total, and resets with each logged one. */
    @Test
    @Timeout(10)
    void notLoggedCountsExactlyAcrossFirstEventsPastTheTotal() {
        LogLimiter l = new LogLimiter(2, 4, Duration.ofMinutes(1), now::get);
        assertEquals(0, l.acquire("a"));
        assertEquals(0, l.acquire("a"));
        assertEquals(0, l.acquire("b"));
        assertEquals(0, l.acquire("b")); // total spent
        for (int i = 0; i < 7; i++) {
            assertEquals(-1, l.acquire(i % 2 == 0 ? "a" : "b"));
        }
        assertEquals(7, l.acquire("c"), "c's first event past the total carries the 7 before it");
        assertEquals(-1, l.acquire("c"), "c's second is past the total");
        assertEquals(1, l.acquire("d"));
        now.addAndGet(Duration.ofMinutes(1).toNanos() - 1);
        assertEquals(-1, l.acquire("a"), "still the same window one nanosecond before its end");
        now.addAndGet(1);
        assertEquals(1, l.acquire("a"), "a new window: the count carries over into the note");
    }

    /**
     * Peer-keyed sites (the public two-argument constructor): a peer minting a key per event gets the
     * first event of each of the 256 keys told apart and of the shared bucket, never more, however
     * many keys it mints (6b68e5d gave every key's first event a pass, to peer-keyed sites too).
     */
    @Test
    @Timeout(10)
    void peerKeyedSiteIsBoundedHoweverManyKeysAPeerMints() {
        LogLimiter l = new LogLimiter(1, Duration.ofMinutes(1), now::get);
        int logged = 0;
        for (int k = 0; k < 100_000; k++) {
            if (l.acquire("peer" + k) >= 0) {
                logged++;
            }
        }
        assertEquals(LogLimiter.MAX_KEYS + 1, logged);
    }

    /** The clock may start negative or wrap: windows are measured by differences. */
    @Test
    @Timeout(10)
    void aWindowIsMeasuredAcrossTheClocksWrap() {
        now.set(Long.MAX_VALUE - 10);
        LogLimiter l = new LogLimiter(1, 1, Duration.ofNanos(100), now::get);
        assertEquals(0, l.acquire("a"));
        assertEquals(-1, l.acquire("a"));
        now.addAndGet(50); // wraps to negative
        assertEquals(-1, l.acquire("a"), "half a window later, across the wrap");
        now.addAndGet(50);
        assertEquals(2, l.acquire("a"));
    }
}
