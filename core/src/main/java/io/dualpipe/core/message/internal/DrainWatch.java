package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.message.PeerStalledException;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A graceful close's guard: the close waits for the peer to take our queued frames, but a peer that
 * takes none of them for the stall timeout would hold the channel (and a server's {@code stop()})
 * open for good, so the channel then closes with a {@link PeerStalledException}. A peer that reads
 * slowly, any byte per period, is waited for.
 *
 * <p>Loop thread only.
 */
final class DrainWatch {
    private final DefaultMessageChannel channel;
    private final Outbound outbound;
    private final EventLoop loop;
    private final Duration timeout;
    private Timeout timer;

    DrainWatch(DefaultMessageChannel channel, Outbound outbound, EventLoop loop, Duration timeout) {
        this.channel = channel;
        this.outbound = outbound;
        this.loop = loop;
        this.timeout = timeout;
    }

    /** From the graceful close, once it waits for the queue to drain. */
    void start() {
        arm(outbound.takenBytes());
    }

    /** From the channel's terminate. */
    void stop() {
        Timeout t = timer;
        timer = null;
        if (t != null) {
            t.cancel();
        }
    }

    private void arm(long takenBefore) {
        try {
            timer = loop.schedule(() -> check(takenBefore), Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
        } catch (LoopClosedException e) {
            // the loop's shutdown fails the channel
        }
    }

    private void check(long takenBefore) {
        timer = null;
        if (channel.isTerminated()) {
            return;
        }
        long taken = outbound.takenBytes();
        if (taken != takenBefore || outbound.queuedBytes() == 0) {
            arm(taken); // slow, not stuck
            return;
        }
        channel.terminate(new PeerStalledException(String.format("%s: closing gracefully, but the peer took none of our %d"
                + " queued bytes for %s; closed instead of waiting for good", channel.name(), outbound.queuedBytes(), timeout)));
    }
}
