package io.dualpipe;

import io.dualpipe.core.BrokenPipeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Review 22, adversarial: b5e52fb, Sender.send throws after queuing only its own write's failure.
 * A write queued at the call and refused later (EPIPE: the child exited with our bytes unread) must
 * still be reported, as DualPipe's Javadoc promises: by a later write or by flush.
 */
class Review22SenderTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** 256 KiB: more than a pipe holds, so the kernel takes the start and the rest waits in our queue. */
    private static byte[] bulk() {
        byte[] b = new byte[256 * 1024];
        Arrays.fill(b, (byte) 'x');
        return b;
    }

    /** The child never reads and is killed with the write queued: flush, then a later write, report it. */
    @Test
    @Timeout(60)
    void aWriteQueuedThenRefusedIsReportedByFlush() {
        DualPipe.spawn("true").close(); // the shared loop and its fds exist from here on
        Leaks.Baseline before = Leaks.baseline();
        for (int round = 0; round < 5; round++) {
            DualPipe p = DualPipe.spawn("sleep", "60");
            try {
                p.write(bulk()); // queued: the child is alive, and cannot have refused it
                assertEquals(true, p.process().signal(9));
                assertThrows(BrokenPipeException.class, () -> p.flush(WAIT), "round " + round);
                assertThrows(BrokenPipeException.class, () -> p.writeLine("later"), "round " + round);
            } finally {
                p.close(WAIT);
            }
        }
        Leaks.awaitNoFdsBeyond(before);
        Leaks.awaitNoZombies();
    }

    /**
     * Two threads each queue a write; the child is killed with both unread. Each thread is told, by its
     * write or by its flush, whichever write the sink holds last.
     */
    @Test
    @Timeout(60)
    void writesOfTwoThreadsQueuedThenRefusedAreReportedToEach() throws Exception {
        for (int round = 0; round < 5; round++) {
            DualPipe p = DualPipe.spawn("sleep", "60");
            try {
                byte[] bulk = bulk();
                CompletableFuture<Void> other = new CompletableFuture<>();
                p.write(bulk()); // fills the pipe, the rest queued
                Thread t = new Thread(() -> {
                    try {
                        p.write(bulk);
                        p.flush(WAIT);
                        other.complete(null);
                    } catch (Throwable e) {
                        other.completeExceptionally(e);
                    }
                });
                t.start();
                assertEquals(true, p.process().signal(9)); // before or after t's write: either way t must be told
                assertThrows(BrokenPipeException.class, () -> p.flush(WAIT), "round " + round);
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> other.get(WAIT.toSeconds(), TimeUnit.SECONDS), "round " + round + ": the other thread's write or flush");
                assertEquals(BrokenPipeException.class, e.getCause().getClass(), String.valueOf(e.getCause()));
                t.join(WAIT.toMillis());
            } finally {
                p.close(WAIT);
            }
        }
        Leaks.awaitNoZombies();
    }
}
