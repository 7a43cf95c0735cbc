package io.dualpipe.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 22, adversarial: 4dad02b, the idle spin ends at the next timer's deadline. Deadlines that
 * move during the spin: a timer scheduled by an IoHandler the spin's own selectNow dispatches, one
 * scheduled or cancelled from another thread, and a timer far off with a near one added.
 */
class Review22IdleSpinTest {
    private static final int SPIN_MS = 10;

    /**
     * An IoHandler dispatched from inside the spin schedules a 3 ms timer while a far timer (10 s)
     * set the spin to its full 10 ms: the timer must fire about on time, not at the spin's end.
     */
    @Test
    @Timeout(30)
    void aTimerScheduledByAHandlerTheSpinDispatchesFiresOnTime() throws Exception {
        try (EventLoop loop = EventLoop.create("r22-spin-handler", Duration.ofMillis(SPIN_MS))) {
            loop.execute(() -> loop.schedule(() -> { }, 10, TimeUnit.SECONDS)); // the spin's full length
            FdChannel[] pipe = FdChannel.pipe();
            try {
                AtomicReference<CompletableFuture<Long>> late = new AtomicReference<>();
                ByteBuffer buf = ByteBuffer.allocateDirect(16);
                loop.register(pipe[0], SelectionKey.OP_READ, new IoHandler() {
                    @Override
                    public void ready(int readyOps) {
                        try {
                            buf.clear();
                            pipe[0].read(buf);
                        } catch (Exception e) {
                            late.get().completeExceptionally(e);
                            return;
                        }
                        CompletableFuture<Long> f = late.get();
                        long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3);
                        loop.schedule(() -> f.complete(System.nanoTime() - due), 3, TimeUnit.MILLISECONDS);
                    }

                    @Override
                    public void loopClosed(LoopClosedException cause) {
                    }
                }).get(5, TimeUnit.SECONDS);
                long min = Long.MAX_VALUE;
                for (int i = 0; i < 10; i++) {
                    CompletableFuture<Long> f = new CompletableFuture<>();
                    late.set(f);
                    pipe[1].write(ByteBuffer.wrap(new byte[] {1}));
                    min = Math.min(min, f.get(5, TimeUnit.SECONDS));
                }
                long micros = TimeUnit.NANOSECONDS.toMicros(min);
                assertTrue(micros < 2_000, "best of 10 timers of 3 ms scheduled by a handler in the spin fired " + micros + " us late");
            } finally {
                pipe[1].close();
                pipe[0].close();
            }
        }
    }

    /** A 3 ms timer scheduled from another thread while the loop spins fires about on time. */
    @Test
    @Timeout(30)
    void aTimerScheduledFromAnotherThreadDuringTheSpinFiresOnTime() throws Exception {
        try (EventLoop loop = EventLoop.create("r22-spin-foreign", Duration.ofMillis(SPIN_MS))) {
            loop.execute(() -> loop.schedule(() -> { }, 10, TimeUnit.SECONDS));
            long min = Long.MAX_VALUE;
            for (int i = 0; i < 10; i++) {
                CompletableFuture<Long> f = new CompletableFuture<>();
                long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3);
                loop.schedule(() -> f.complete(System.nanoTime() - due), 3, TimeUnit.MILLISECONDS);
                min = Math.min(min, f.get(5, TimeUnit.SECONDS));
            }
            long micros = TimeUnit.NANOSECONDS.toMicros(min);
            assertTrue(micros < 2_000, "best of 10 timers of 3 ms scheduled off the loop fired " + micros + " us late");
        }
    }

    /**
     * The spin is cut to a 3 ms timer that another thread cancels during the spin; an 8 ms timer
     * behind it still fires on time and the cancelled one never runs.
     */
    @Test
    @Timeout(30)
    void aTimerCancelledDuringTheSpinNeitherRunsNorDelaysTheNext() throws Exception {
        try (EventLoop loop = EventLoop.create("r22-spin-cancel", Duration.ofMillis(SPIN_MS))) {
            long min = Long.MAX_VALUE;
            for (int i = 0; i < 10; i++) {
                AtomicBoolean ran = new AtomicBoolean();
                CompletableFuture<io.dualpipe.core.Timeout> first = new CompletableFuture<>();
                CompletableFuture<Long> second = new CompletableFuture<>();
                long[] due = new long[1];
                loop.execute(() -> {
                    first.complete(loop.schedule(() -> ran.set(true), 3, TimeUnit.MILLISECONDS));
                    due[0] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(8);
                    loop.schedule(() -> second.complete(System.nanoTime() - due[0]), 8, TimeUnit.MILLISECONDS);
                });
                boolean cancelled = first.get(5, TimeUnit.SECONDS).cancel();
                min = Math.min(min, second.get(5, TimeUnit.SECONDS));
                if (cancelled) {
                    assertFalse(ran.get(), "a timer whose cancel() returned true ran");
                }
            }
            long micros = TimeUnit.NANOSECONDS.toMicros(min);
            assertTrue(micros < 2_000, "best of 10 timers of 8 ms behind a cancelled one fired " + micros + " us late");
        }
    }
}
