package io.dualpipe.core.review13;

import io.dualpipe.core.FdChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pinned heap writes from several threads to several pipes at once, all of them slices of one shared
 * array (wrapped with an offset, sliced so arrayOffset is not 0, duplicated, read-only, and the
 * byte[] variant), while another thread runs System.gc() and allocates in a loop: every byte read
 * must be the byte meant, in order, and a partial write must resume at the right place.
 */
class PinnedWriteUnderGcTest {
    private static final int PIPES = 4;
    private static final long PER_PIPE = 12L * 1024 * 1024;
    private static final byte[] SHARED = new byte[4 * 1024 * 1024 + 7];

    static {
        new Random(42).nextBytes(SHARED);
    }

    /** The k-th pipe's chunks: offset and length in SHARED, and how the chunk is handed to write. */
    private static final class Plan {
        private final Random r;

        Plan(int pipe) {
            r = new Random(1000 + pipe);
        }

        int[] next() {
            int len = FdChannel.PIN_MIN - 3 + r.nextInt(300 * 1024); // around and far above PIN_MIN
            int off = r.nextInt(SHARED.length - len);
            return new int[] {off, len, r.nextInt(5)};
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void everyByteRightWhileGcRuns() throws Exception {
        List<FdChannel> all = new ArrayList<>();
        AtomicBoolean done = new AtomicBoolean();
        Thread gc = new Thread(() -> {
            long sink = 0;
            while (!done.get()) {
                System.gc();
                for (int i = 0; i < 64; i++) {
                    sink += new byte[64 * 1024].length;
                }
            }
            if (sink == 42) {
                System.out.println();
            }
        }, "gc-loop");
        gc.setDaemon(true);
        gc.start();
        try {
            List<CompletableFuture<Long>> writers = new ArrayList<>();
            List<CompletableFuture<Long>> readers = new ArrayList<>();
            for (int k = 0; k < PIPES; k++) {
                FdChannel[] p = FdChannel.pipe();
                all.add(p[0]);
                all.add(p[1]);
                p[0].configureBlocking(true); // the reader goes through the scratch: only the writer pins
                int pipe = k;
                writers.add(CompletableFuture.supplyAsync(() -> write(pipe, p[1]), daemon("writer-" + k)));
                readers.add(CompletableFuture.supplyAsync(() -> readAndCheck(pipe, p[0]), daemon("reader-" + k)));
            }
            for (int k = 0; k < PIPES; k++) {
                assertEquals(PER_PIPE, writers.get(k).get(150, TimeUnit.SECONDS));
                assertEquals(PER_PIPE, readers.get(k).get(150, TimeUnit.SECONDS));
            }
        } finally {
            done.set(true);
            for (FdChannel ch : all) {
                ch.close();
            }
        }
    }

    private static java.util.concurrent.Executor daemon(String name) {
        return task -> {
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            t.start();
        };
    }

    private static long write(int pipe, FdChannel out) {
        try {
            Plan plan = new Plan(pipe);
            long sent = 0;
            while (sent < PER_PIPE) {
                int[] c = plan.next();
                int len = (int) Math.min(c[1], PER_PIPE - sent);
                int off = c[0];
                switch (c[2]) {
                    case 0 -> drain(out, ByteBuffer.wrap(SHARED, off, len));
                    case 1 -> drain(out, ByteBuffer.wrap(SHARED).position(off).slice().limit(len)); // arrayOffset = off
                    case 2 -> { // a duplicate of a slice at arrayOffset 1: position + arrayOffset is the array index
                        int at = Math.max(off - 1, 0);
                        drain(out, ByteBuffer.wrap(SHARED).position(1).slice().duplicate().position(at).limit(at + len));
                    }
                    case 3 -> drain(out, ByteBuffer.wrap(SHARED, off, len).asReadOnlyBuffer());
                    default -> {
                        int at = off;
                        int left = len;
                        while (left > 0) {
                            int n = out.write(SHARED, at, left);
                            at += n;
                            left -= n;
                            if (n == 0) {
                                Thread.onSpinWait(); // a full pipe: the reader is draining it
                            }
                        }
                    }
                }
                sent += len;
            }
            out.close();
            return sent;
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static void drain(FdChannel out, ByteBuffer b) throws Exception {
        while (b.hasRemaining()) {
            if (out.write(b) == 0) {
                Thread.onSpinWait();
            }
        }
    }

    private static long readAndCheck(int pipe, FdChannel in) {
        try {
            Plan plan = new Plan(pipe);
            ByteBuffer buf = ByteBuffer.allocate(96 * 1024);
            int[] chunk = null;
            int inChunk = 0;
            long got = 0;
            while (true) {
                buf.clear();
                int n = in.read(buf);
                if (n < 0) {
                    return got;
                }
                for (int i = 0; i < n; i++) {
                    if (chunk == null || inChunk == Math.min(chunk[1], PER_PIPE - (got - inChunk))) {
                        chunk = plan.next();
                        inChunk = 0;
                    }
                    int off = chunk[2] == 2 ? Math.max(chunk[0] - 1, 0) + 1 : chunk[0];
                    byte want = SHARED[off + inChunk];
                    if (buf.get(i) != want) {
                        throw new AssertionError("pipe " + pipe + ": byte " + got + " (chunk mode " + chunk[2] + ", offset "
                                + chunk[0] + ", at " + inChunk + ") is " + buf.get(i) + ", expected " + want);
                    }
                    inChunk++;
                    got++;
                }
            }
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }
}
