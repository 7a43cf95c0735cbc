package io.dualpipe.core.internal;

import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LogLimiterTest {

    @Test
    void logsUpToTheLimitPerWindowThenCountsAndReportsWhatItSkipped() {
        AtomicLong now = new AtomicLong(1_000);
        LogLimiter limiter = new LogLimiter(3, Duration.ofSeconds(60), now::get);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, limiter.acquire("a"));
        }
        for (int i = 0; i < 7; i++) {
            assertEquals(-1, limiter.acquire("a"));
        }
        now.addAndGet(Duration.ofSeconds(59).toNanos());
        assertEquals(-1, limiter.acquire("a")); // still the same window
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertEquals(8, limiter.acquire("a")); // a new window: the first one logged says what was not
        assertEquals(0, limiter.acquire("a"));
        assertEquals(0, limiter.acquire("a"));
        assertEquals(-1, limiter.acquire("a"));
    }

    @Test
    void oneKeysFloodDoesNotHideAnotherKeysFirstEvent() {
        LogLimiter limiter = new LogLimiter(2, Duration.ofHours(1), () -> 0L);
        assertEquals(0, limiter.acquire(0));
        assertEquals(0, limiter.acquire(0));
        for (int i = 0; i < 100; i++) {
            assertEquals(-1, limiter.acquire(0));
        }
        assertEquals(100, limiter.acquire(65534)); // another uid: logged, and it says what was skipped
        assertEquals(0, limiter.acquire(65534));
        assertEquals(-1, limiter.acquire(65534));
    }

    @Test
    void allKeysTogetherAreBoundedToo() {
        LogLimiter limiter = new LogLimiter(2, Duration.ofHours(1), () -> 0L);
        int logged = 0;
        for (int round = 0; round < 3; round++) {
            for (int key = 0; key < 1_000; key++) {
                if (limiter.acquire(key) >= 0) {
                    logged++;
                }
            }
        }
        // Each key told apart (256, and one bucket for the rest) gets its first event; the total
        // (five times perKey) is spent by the first of those, so no key gets a second.
        assertEquals(LogLimiter.MAX_KEYS + 1, logged);
    }

    @Test
    void aKeysFirstEventIsLoggedOnceTheTotalIsSpent() {
        LogLimiter limiter = new LogLimiter(2, Duration.ofHours(1), () -> 0L);
        for (int i = 0; i < 100; i++) {
            for (int key = 0; key < 5; key++) {
                limiter.acquire(key); // five flooding keys spend the total of 10
            }
        }
        assertEquals(-1, limiter.acquire(0));
        assertEquals(491, limiter.acquire(5), "a new key's first event is logged, and counts what was not");
        assertEquals(-1, limiter.acquire(5), "but not its second: the total is spent");
    }

    @Test
    void theNoteSaysHowManyWereNotLogged() {
        assertEquals("", LogLimiter.note(0));
        assertEquals(" (8 more warnings from here not logged at WARN before this one)", LogLimiter.note(8));
    }

    @Test
    void aLimitBelowOneIsRefused() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> new LogLimiter(0, Duration.ofSeconds(1)));
        assertEquals("perKey < 1: 0", e.getMessage());
    }
}
