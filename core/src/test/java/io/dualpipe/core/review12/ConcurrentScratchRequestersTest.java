package io.dualpipe.core.review12;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.LineReader;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * review12: request lines are encoded in a per-thread scratch and only the part the kernel does not
 * take is copied. Several user threads and the loop thread request at once, into a pipe nobody reads
 * at first (so writes are cut and queued), with lines around the scratch's size: every line must
 * reach the reader intact, whole, and in each requester's order.
 */
class ConcurrentScratchRequestersTest {
    private static final int THREADS = 4;
    private static final int PER_THREAD = 300;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    @Timeout(90)
    void concurrentRequestersNeverCorruptOrInterleaveLines(boolean byId) throws Exception {
        try (EventLoop loop = EventLoop.create("r12-scratch")) {
            FdChannel[] replies = FdChannel.pipe();
            FdChannel[] requests = FdChannel.pipe();
            FdStream out = FdStream.sink(loop, requests[1], "requests", 64 * 1024, 32 * 1024);
            Conversation c = Conversation.builder(out, LineReader.of(FdStream.source(loop, replies[0], "replies", 64 * 1024)))
                    .pipelined(true).correlateById(byId).maxOutstanding(1_000_000).build();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            // Thread THREADS is the loop thread, fed tasks that each make one request.
            int[] lengths = {1, 100, 4000, 4094, 4095, 4096, 4097, 5000, 20_000};
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                        Random r = new Random(id);
                        for (int i = 0; i < PER_THREAD; i++) {
                            c.request(line(id, i, lengths[r.nextInt(lengths.length)]));
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }, "r12-req-" + t);
                th.start();
                threads.add(th);
            }
            CompletableFuture<Void> loopDone = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Random lr = new Random(99);
            for (int i = 0; i < PER_THREAD; i++) {
                int n = i;
                int len = lengths[lr.nextInt(lengths.length)];
                loop.execute(() -> {
                    try {
                        c.request(line(THREADS, n, len));
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                    if (n == PER_THREAD - 1) {
                        loopDone.complete(null);
                    }
                });
            }
            start.countDown();
            for (Thread th : threads) {
                th.join(60_000);
            }
            loopDone.get(60, TimeUnit.SECONDS);
            assertTrue(errors.isEmpty(), () -> "errors: " + errors);

            FdStream child = FdStream.source(loop, requests[0], "child's stdin", 64 * 1024);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            int total = (THREADS + 1) * PER_THREAD;
            int lines = 0;
            while (lines < total) {
                byte[] b = child.read(1 << 20).get(20, TimeUnit.SECONDS);
                got.write(b);
                for (byte x : b) {
                    if (x == '\n') {
                        lines++;
                    }
                }
            }
            String[] all = got.toString(UTF_8).split("\n", -1);
            assertEquals(total + 1, all.length);
            Map<Integer, Integer> next = new HashMap<>();
            for (int k = 0; k < total; k++) {
                String s = all[k];
                if (byId) {
                    s = s.substring(s.indexOf(' ') + 1);
                }
                String[] parts = s.split(":", 3);
                int t = Integer.parseInt(parts[0]);
                int i = Integer.parseInt(parts[1]);
                assertEquals(next.getOrDefault(t, 0), i, "requester " + t + " out of order at line " + k);
                next.put(t, i + 1);
                assertEquals(line(t, i, parts[2].length() + parts[0].length() + parts[1].length() + 2), s,
                        "line " + k + " corrupted");
            }
            replies[1].close();
            child.close();
        }
    }

    /** A line of about {@code len} chars whose body is derived from (t, i), so any corruption shows. */
    static String line(int t, int i, int len) {
        StringBuilder b = new StringBuilder(t + ":" + i + ":");
        int k = 0;
        while (b.length() < len) {
            b.append((char) ('a' + (t * 7 + i * 13 + k++) % 26));
        }
        return b.toString();
    }
}
