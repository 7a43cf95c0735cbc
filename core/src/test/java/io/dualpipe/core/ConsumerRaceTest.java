package io.dualpipe.core;

import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.LineReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Consumers that give up, re-enter or switch modes must never cost the stream a byte or a line. */
class ConsumerRaceTest {

    @Test
    @Timeout(10)
    void aReadLineItsCallerGaveUpOnDoesNotEatTheNextLine() throws Exception {
        try (EventLoop loop = EventLoop.create("races")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            LineReader lines = LineReader.of(in);
            LoopFuture<String> abandoned = lines.readLine();
            abandoned.completeExceptionally(new java.util.concurrent.TimeoutException("as orTimeout would"));
            out.write("one\ntwo\n");
            assertEquals("one", lines.readLine().get(5, TimeUnit.SECONDS));
            assertEquals("two", lines.readLine().get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(10)
    void aCancelledReadDoesNotEatTheNextBytes() throws Exception {
        try (EventLoop loop = EventLoop.create("races")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            assertTrue(in.read(3).cancel(true));
            out.write("abcdef");
            assertEquals("abcdef", new String(in.read(10).get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        }
    }

    @Test
    @Timeout(10)
    void aReadIssuedFromAReadsCompletionReadsOnCorrectly() throws Exception {
        try (EventLoop loop = EventLoop.create("races")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            byte[] data = new byte[20];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) i;
            }
            out.write(data).get(5, TimeUnit.SECONDS);
            TestSupport.await("20 bytes buffered", () -> bufferedOnLoop(loop, in) == 20);
            // Hold the loop so both the read and its dependent stage are in place before it runs.
            CountDownLatch gate = new CountDownLatch(1);
            loop.execute(() -> awaitQuietly(gate));
            AtomicReference<LoopFuture<byte[]>> second = new AtomicReference<>();
            LoopFuture<byte[]> first = in.read(10);
            first.thenAccept(b -> second.set(in.read(10))); // runs on the loop, inside the first delivery
            gate.countDown();
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 10), first.get(5, TimeUnit.SECONDS));
            TestSupport.await("second read issued", () -> second.get() != null);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 10, 20), second.get().get(5, TimeUnit.SECONDS));
            out.write("more");
            assertEquals("more", new String(in.read(10).get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        }
    }

    @Test
    @Timeout(10)
    void aConversationTakingOverFailsThePendingReadLineInsteadOfLosingReplies() throws Exception {
        try (EventLoop loop = EventLoop.create("races")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024); // an echo: the pipe loops back
            LineReader lines = LineReader.of(in);
            LoopFuture<String> banner = lines.readLine();
            Conversation c = Conversation.over(out, lines, StandardCharsets.UTF_8);
            assertEquals("ping", c.request("ping").get(5, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> banner.get(5, TimeUnit.SECONDS));
            assertInstanceOf(ConsumerConflictException.class, e.getCause());
        }
    }

    @Test
    @Timeout(20)
    void twoLoopsClosingEachOtherBothEnd() throws Exception {
        EventLoop a = EventLoop.create("loop-a");
        EventLoop b = EventLoop.create("loop-b");
        CountDownLatch both = new CountDownLatch(2);
        a.execute(() -> {
            both.countDown();
            awaitQuietly(both);
            b.close();
        });
        b.execute(() -> {
            both.countDown();
            awaitQuietly(both);
            a.close();
        });
        a.terminationFuture().get(10, TimeUnit.SECONDS);
        b.terminationFuture().get(10, TimeUnit.SECONDS);
    }

    private static int bufferedOnLoop(EventLoop loop, FdStream s) {
        CompletableFuture<Integer> n = new CompletableFuture<>();
        loop.execute(() -> n.complete(s.bufferedBytes()));
        return n.join();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
