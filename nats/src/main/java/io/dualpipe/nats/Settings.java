package io.dualpipe.nats;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.nats.internal.Layout;

import java.time.Duration;

/** The stream and consumer limits both builders take, used by whichever side creates them first. Not thread-safe. */
final class Settings {
    private long maxQueued = 100_000;
    private long maxBytes = 256L << 20;
    private Duration ackWait = Duration.ofSeconds(30);
    private int maxDeliver = 3;
    private long maxAckPending = 100_000;

    void maxQueued(long n) {
        this.maxQueued = positive("maxQueued", n);
    }

    void maxBytes(long n) {
        this.maxBytes = positive("maxBytes", n);
    }

    void ackWait(Duration d) {
        this.ackWait = positive("ackWait", d);
        if (d.toMillis() < 300) {
            throw new InvalidArgumentException("ackWait < 300 ms: " + d + " (heartbeats go every third of it)");
        }
    }

    void maxDeliver(int n) {
        this.maxDeliver = (int) positive("maxDeliver", n);
    }

    Layout.Limits limits() {
        return new Layout.Limits(maxQueued, maxBytes, ackWait, maxDeliver, maxAckPending, Duration.ofMinutes(2), Duration.ofHours(1));
    }

    static long positive(String name, long n) {
        if (n <= 0) {
            throw new InvalidArgumentException(name + " <= 0: " + n);
        }
        return n;
    }

    static Duration positive(String name, Duration d) {
        InvalidArgumentException.requireNonNull(name, d);
        if (d.isNegative() || d.isZero()) {
            throw new InvalidArgumentException(name + " <= 0: " + d);
        }
        return d;
    }

    static Duration nonNegative(String name, Duration d) {
        InvalidArgumentException.requireNonNull(name, d);
        if (d.isNegative()) {
            throw new InvalidArgumentException(name + " < 0: " + d);
        }
        return d;
    }
}
