package io.dualpipe.core.internal;

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
            assertEquals(0, limiter.acquire());
        }
        for (int i = 0; i < 7; i++) {
            assertEquals(-1, limiter.acquire());
        }
        now.addAndGet(Duration.ofSeconds(59).toNanos());
        assertEquals(-1, limiter.acquire()); // still the same window
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertEquals(8, limiter.acquire()); // a new window: the first one logged says what was not
        assertEquals(0, limiter.acquire());
        assertEquals(0, limiter.acquire());
        assertEquals(-1, limiter.acquire());
    }

    @Test
    void theNoteSaysHowManyWereNotLogged() {
        assertEquals("", LogLimiter.note(0));
        assertEquals(" (8 more like it not logged at WARN before this one)", LogLimiter.note(8));
    }

    @Test
    void aLimitBelowOneIsRefused() {
        io.dualpipe.core.InvalidArgumentException e = assertThrows(io.dualpipe.core.InvalidArgumentException.class, () -> new LogLimiter(0, Duration.ofSeconds(1)));
        assertEquals("perWindow < 1: 0", e.getMessage());
    }
}
