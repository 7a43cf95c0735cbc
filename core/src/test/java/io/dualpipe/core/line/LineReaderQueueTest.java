package io.dualpipe.core.line;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static io.dualpipe.core.TestSupport.await;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LineReader}'s queue of unread lines, over a real pipe. */
class LineReaderQueueTest {
    private static final int MAX_QUEUED = 4096;

    /**
     * Lines every one of which costs a real amount: a million empty lines (1 MB, far above what the
     * queue, the source's buffer and the pipe hold together) are queued a bounded number at a time,
     * and the end of stream still comes after the last.
     */
    @Test
    @Timeout(30)
    void aFloodOfEmptyLinesIsQueuedBoundedAndEndsInOrder() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-queue-flood")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            LineReader lines = LineReader.of(in, 1024, UTF_8, MAX_QUEUED);
            int count = 1_000_000;
            byte[] newlines = new byte[count];
            java.util.Arrays.fill(newlines, (byte) '\n');
            LoopFuture<Void> written = out.write(newlines);
            // Nobody reads: the queue fills to its bound, the source pauses, the pipe fills, the write waits.
            await("the queue to fill", () -> onLoop(loop, lines::queuedLines) >= MAX_QUEUED / LineReader.LINE_OVERHEAD);
            int queued = onLoop(loop, lines::queuedLines);
            assertTrue(queued <= MAX_QUEUED / LineReader.LINE_OVERHEAD + 1, queued + " lines queued");
            assertTrue(!written.isDone(), "the writer is held back");
            written.thenRun(out::shutdownOutput);
            int pulled = 1000;
            for (int i = 0; i < pulled; i++) {
                assertEquals("", lines.readLine().get(5, TimeUnit.SECONDS), "line " + i);
            }
            // The rest pushed, the queued ones first: each exactly once, then the end.
            long[] pushed = {0};
            CompletableFuture<Long> ended = new CompletableFuture<>();
            lines.listen(new LineReader.Listener() {
                @Override
                public void onLine(String line) {
                    pushed[0] += line.isEmpty() ? 1 : 1_000_000_000L;
                }

                @Override
                public void onEnd() {
                    ended.complete(pushed[0]);
                }
            });
            assertEquals(count - pulled, (long) ended.get(20, TimeUnit.SECONDS));
        }
    }

    /**
     * A reader whose stage reads the next line while queued lines are handed out: the nested read
     * used to get the same line again, and the line after it was lost.
     */
    @Test
    @Timeout(30)
    void aStageThatReadsTheNextQueuedLineGetsEachLineOnce() throws Exception {
        try (EventLoop loop = EventLoop.create("lines-queue-nested")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            LineReader lines = LineReader.of(in, 1024, UTF_8, MAX_QUEUED);
            out.write("a\nb\nc\nd\n".getBytes(UTF_8)).get(5, TimeUnit.SECONDS);
            await("four lines queued", () -> onLoop(loop, lines::queuedLines) == 4);
            // Hold the loop so that the stages below are attached before the first line is handed out.
            CountDownLatch attached = new CountDownLatch(1);
            loop.execute(() -> {
                try {
                    attached.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<String> got = new ArrayList<>();
            CompletableFuture<Void> chain = lines.readLine().thenCompose(a -> {
                got.add(a);
                return lines.readLine();
            }).thenCompose(b -> {
                got.add(b);
                return lines.readLine();
            }).thenAccept(got::add);
            attached.countDown();
            chain.get(5, TimeUnit.SECONDS);
            assertEquals(List.of("a", "b", "c"), got);
            assertEquals("d", lines.readLine().get(5, TimeUnit.SECONDS));
        }
    }

    private static <T> T onLoop(EventLoop loop, Supplier<T> s) {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(s.get()));
        try {
            return f.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
