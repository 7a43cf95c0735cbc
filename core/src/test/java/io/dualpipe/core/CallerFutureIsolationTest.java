package io.dualpipe.core;

import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loop's termination and a stream's end and shutdown are handed out as each caller's own future:
 * cancelling, completing, obtruding or timing out one leaves them as the library and other callers
 * see them.
 */
class CallerFutureIsolationTest {

    enum Poison {
        CANCEL {
            void apply(CompletableFuture<?> f) {
                assertTrue(f.cancel(true));
            }
        },
        COMPLETE {
            void apply(CompletableFuture<?> f) {
                assertTrue(f.complete(null));
            }
        },
        COMPLETE_EXCEPTIONALLY {
            void apply(CompletableFuture<?> f) {
                assertTrue(f.completeExceptionally(new IllegalStateException("a caller's own failure")));
            }
        },
        OBTRUDE_VALUE {
            void apply(CompletableFuture<?> f) {
                f.obtrudeValue(null);
            }
        },
        OBTRUDE_EXCEPTION {
            void apply(CompletableFuture<?> f) {
                f.obtrudeException(new IllegalStateException("a caller's own failure"));
            }
        },
        OR_TIMEOUT {
            void apply(CompletableFuture<?> f) {
                CompletableFuture<?> same = f.orTimeout(10, TimeUnit.MILLISECONDS);
                Throwable t = assertThrows(ExecutionException.class, () -> same.get(10, TimeUnit.SECONDS)).getCause();
                assertTrue(t instanceof TimeoutException, t.toString());
            }
        };

        abstract void apply(CompletableFuture<?> f);
    }

    @ParameterizedTest
    @EnumSource(Poison.class)
    @Timeout(30)
    void aCallersTerminationFutureLeavesTheLoopsToEveryoneElse(Poison poison) throws Exception {
        EventLoop loop = EventLoop.create("isolation-termination");
        LoopFuture<Void> other = loop.terminationFuture();
        poison.apply(loop.terminationFuture());
        assertFalse(other.isDone(), "another caller's future changed with the first one's");
        assertFalse(loop.terminationFuture().isDone(), "a new caller sees the loop ended while it runs");
        // The loop still works, and its streams still think it runs (they close channels by it).
        FdChannel[] p = FdChannel.pipe();
        FdStream in = FdStream.source(loop, p[0], "in", 1024);
        FdStream out = FdStream.sink(loop, p[1], "out", 1024, 512);
        out.write("x");
        assertEquals("x", new String(in.read(10).get(10, TimeUnit.SECONDS)));
        loop.close();
        other.get(10, TimeUnit.SECONDS);
        loop.terminationFuture().get(10, TimeUnit.SECONDS);
        assertFalse(p[0].isOpen());
        assertFalse(p[1].isOpen());
    }

    @ParameterizedTest
    @EnumSource(Poison.class)
    @Timeout(30)
    void aCallersEndOfStreamLeavesTheEndToEveryoneElse(Poison poison) throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-eos")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 1024, 512);
            LoopFuture<Void> other = in.endOfStream();
            poison.apply(in.endOfStream());
            assertFalse(other.isDone());
            assertFalse(in.endOfStream().isDone());
            out.write("last");
            out.shutdownOutput();
            assertEquals("last", new String(in.read(10).get(10, TimeUnit.SECONDS)));
            assertEquals(0, in.read(10).get(10, TimeUnit.SECONDS).length);
            other.get(10, TimeUnit.SECONDS);
            in.endOfStream().get(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(Poison.class)
    @Timeout(30)
    void aCallersShutdownOutputLeavesTheShutdownToEveryoneElse(Poison poison) throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-shutdown")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            in.pause(); // nobody reads: the bytes below stay queued, and so does the shutdown
            byte[] data = new byte[1024 * 1024];
            LoopFuture<Void> written = out.write(data);
            poison.apply(out.shutdownOutput());
            LoopFuture<Void> second = out.shutdownOutput();
            assertFalse(second.isDone(), "a second caller sees the first one's poison");
            assertFalse(written.isDone());
            in.resume();
            long total = 0;
            while (true) {
                byte[] chunk = in.read(64 * 1024).get(10, TimeUnit.SECONDS);
                if (chunk.length == 0) {
                    break;
                }
                total += chunk.length;
            }
            assertEquals(data.length, total);
            written.get(10, TimeUnit.SECONDS);
            second.get(10, TimeUnit.SECONDS);
            out.shutdownOutput().get(10, TimeUnit.SECONDS);
        }
    }

    /** The copies are LoopFutures: blocking on an incomplete one from the loop thread fails fast. */
    @Test
    @Timeout(30)
    void blockingOnACopyFromTheLoopThreadStillFailsFast() throws Exception {
        try (EventLoop loop = EventLoop.create("isolation-guard")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 1024);
            try {
                CompletableFuture<Throwable> seen = new CompletableFuture<>();
                loop.execute(() -> {
                    try {
                        seen.complete(assertThrows(BlockingOnLoopException.class, () -> loop.terminationFuture().join()));
                        assertThrows(BlockingOnLoopException.class, () -> in.endOfStream().get());
                    } catch (Throwable t) {
                        seen.completeExceptionally(t);
                    }
                });
                assertNotNull(seen.get(10, TimeUnit.SECONDS));
            } finally {
                in.close();
                p[1].close();
            }
        }
    }
}
