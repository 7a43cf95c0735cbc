package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.message.RequestTimeoutException;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Request timeouts without a timer per request. A loop timer costs an allocation, a heap insertion
 * and, once the reply is in, a cancellation and a heap removal: more than the rest of a small
 * request's path. But a channel's requests mostly share one timeout, and requests made with one
 * timeout expire in the order they were made. So each distinct timeout gets a <i>lane</i>: a FIFO
 * of its requests with their deadlines and one loop timer, armed for the oldest live request.
 * A reply does nothing here; its request is dropped from the lane's head once done, or when the
 * timer fires, which then times out every live request whose deadline has passed and re-arms for
 * the next live one. So the steady state costs one array store per request and one timer run per
 * timeout period.
 *
 * <p><b>Bound.</b> A lane holds its live requests and the done ones behind the oldest live one. When
 * its ring is full and more than half of it could be done (more entries than twice the channel's
 * outstanding requests, plus a slack), the done entries are compacted away instead of growing the
 * ring, so a straggler at the head cannot make it grow with the request rate. A channel has at most
 * {@link #MAX_LANES} lanes; a request with yet another timeout gets a timer of its own, as before.
 *
 * <p>Loop thread only. A request cancelled from another thread is done at once and its entry is
 * dropped later, here, like any other done one.
 */
final class Deadlines {
    static final int MAX_LANES = 4;
    private static final int SLACK = 64;

    private final String name;
    private final EventLoop loop;
    private final Requests requests;
    private final Lane[] lanes = new Lane[MAX_LANES];
    private int laneCount;

    Deadlines(String name, EventLoop loop, Requests requests) {
        this.name = name;
        this.loop = loop;
        this.requests = requests;
    }

    /**
     * Starts {@code p}'s timeout (its id is set). A timeout too long for nanoseconds waits ~146
     * years, i.e. has no practical limit.
     *
     * @throws io.dualpipe.core.LoopClosedException when the loop is closing; nothing was kept
     */
    void start(OpenRequest p, Duration timeout) {
        long nanos = Durations.saturatedNanos(timeout);
        Lane lane = null;
        for (int i = 0; i < laneCount; i++) {
            if (lanes[i].nanos == nanos) {
                lane = lanes[i];
                break;
            }
        }
        if (lane == null) {
            if (laneCount == MAX_LANES) {
                p.startTimer(loop, timeout);
                return;
            }
            lane = new Lane(nanos, timeout);
            lanes[laneCount++] = lane;
        }
        lane.add(p, saturatedAdd(System.nanoTime(), nanos));
    }

    /** Entries kept in all lanes, live or done; for tests of the bound. */
    int entries() {
        int n = 0;
        for (int i = 0; i < laneCount; i++) {
            n += lanes[i].size;
        }
        return n;
    }

    /** Forgets every entry and stops the timers: the channel failed its requests itself. */
    void clear() {
        for (int i = 0; i < laneCount; i++) {
            lanes[i].clear();
        }
    }

    /**
     * A loop timer of {@code p}'s own, for a timeout that found no lane: forgets and fails it when it
     * fires unanswered. A timeout too long for nanoseconds waits ~146 years, i.e. has no practical limit.
     *
     * @throws io.dualpipe.core.LoopClosedException when the loop is closing
     */
    static Timeout ownTimer(EventLoop loop, DefaultMessageChannel channel, OpenRequest p, Duration timeout) {
        return loop.schedule(() -> {
            if (!p.isDone()) {
                channel.forget(p);
                p.fail(new RequestTimeoutException(channel.name() + ": no reply to request "
                        + Integer.toUnsignedLong(p.id()) + " within " + timeout));
            }
        }, Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
    }

    private static long saturatedAdd(long now, long nanos) {
        long d = now + nanos;
        return ((now ^ d) & (nanos ^ d)) < 0 ? Long.MAX_VALUE : d;
    }

    /** The requests made with one timeout, oldest first; deadlines never decrease along it. */
    private final class Lane implements Runnable {
        final long nanos;
        final Duration timeout;
        private OpenRequest[] ring = new OpenRequest[16];
        private long[] deadlines = new long[16];
        private int head;
        private int size;
        private Timeout timer;
        private boolean firing;

        Lane(long nanos, Duration timeout) {
            this.nanos = nanos;
            this.timeout = timeout;
        }

        void add(OpenRequest p, long deadline) {
            dropDoneHead();
            if (size == ring.length) {
                if (size > 2 * requests.pending() + SLACK) {
                    compact();
                }
                if (size == ring.length) {
                    grow();
                }
            }
            boolean arm = size == 0 && timer == null && !firing;
            if (arm) {
                // Armed before the entry is kept: a closing loop refuses, and the caller fails p.
                timer = loop.schedule(this, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            int at = (head + size) & (ring.length - 1);
            ring[at] = p;
            deadlines[at] = deadline;
            size++;
        }

        /** The timer: times out what is due, drops what is done, re-arms for the oldest live request. */
        @Override
        public void run() {
            timer = null;
            firing = true;
            try {
                long now = System.nanoTime();
                while (size > 0) {
                    OpenRequest p = ring[head];
                    if (!p.isDone() && deadlines[head] - now > 0) {
                        break;
                    }
                    pollHead();
                    if (!p.isDone()) {
                        // Taken out first: the caller's callbacks may send more requests into this lane.
                        requests.forget(p);
                        p.fail(new RequestTimeoutException(name + ": no reply to request "
                                + Integer.toUnsignedLong(p.id()) + " within " + timeout));
                    }
                }
            } finally {
                firing = false;
            }
            if (size > 0 && timer == null) {
                try {
                    timer = loop.schedule(this, Math.max(0, deadlines[head] - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (io.dualpipe.core.LoopClosedException closing) {
                    // the loop's shutdown fails the channel and with it these requests
                }
            }
        }

        private void dropDoneHead() {
            while (size > 0 && ring[head].isDone()) {
                pollHead();
            }
        }

        private void pollHead() {
            ring[head] = null;
            head = (head + 1) & (ring.length - 1);
            size--;
        }

        private void compact() {
            int mask = ring.length - 1;
            int kept = 0;
            for (int i = 0; i < size; i++) {
                int from = (head + i) & mask;
                OpenRequest p = ring[from];
                ring[from] = null;
                if (!p.isDone()) {
                    int to = (head + kept) & mask;
                    ring[to] = p;
                    deadlines[to] = deadlines[from];
                    kept++;
                }
            }
            size = kept;
        }

        private void grow() {
            int n = ring.length;
            OpenRequest[] r = new OpenRequest[n * 2];
            long[] d = new long[n * 2];
            for (int i = 0; i < size; i++) {
                r[i] = ring[(head + i) & (n - 1)];
                d[i] = deadlines[(head + i) & (n - 1)];
            }
            ring = r;
            deadlines = d;
            head = 0;
        }

        void clear() {
            java.util.Arrays.fill(ring, null);
            head = 0;
            size = 0;
            Timeout t = timer;
            timer = null;
            if (t != null) {
                t.cancel();
            }
        }
    }
}
