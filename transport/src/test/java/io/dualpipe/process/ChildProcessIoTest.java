package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.process.internal.ProcessControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.dualpipe.process.ProcessTestSupport.after;
import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.buffered;
import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bytes through real children: volume, backpressure, half-close, concurrency, extra pipes, stderr. */
class ChildProcessIoTest {
    private static final int MIB = 1024 * 1024;

    // ---- bulk round trips ---------------------------------------------------------------------------

    @Test
    @Timeout(60)
    void catRoundTripsBinaryDataOfManySizes() throws Exception {
        try (EventLoop loop = EventLoop.create("io-binary")) {
            for (long size : new long[] {0, 1, 4095, 64 * 1024 + 1, 3 * MIB + 7}) {
                binaryRoundTrip(loop, size, 0);
            }
        }
    }

    /** 100 MiB written while it is read back, compared by digest; a 1 MiB pipe keeps it quick. */
    @Test
    @Timeout(90)
    void catRoundTrips100MiBOfBinaryData() throws Exception {
        try (EventLoop loop = EventLoop.create("io-100mib")) {
            binaryRoundTrip(loop, 100L * MIB, MIB);
        }
    }

    private static void binaryRoundTrip(EventLoop loop, long size, int pipeSize) throws Exception {
        ChildProcess cat = ChildProcess.builder("cat").loop(loop).pipeBufferSize(pipeSize).start();
        MessageDigest readDigest = MessageDigest.getInstance("SHA-256");
        AtomicLong readCount = new AtomicLong();
        CompletableFuture<Void> end = new CompletableFuture<>();
        cat.stdout().listen(new ByteSource.Listener() {
            @Override
            public void onData(ByteBuffer data) {
                readCount.addAndGet(data.remaining());
                readDigest.update(data);
            }

            @Override
            public void onEnd() {
                end.complete(null);
            }

            @Override
            public void onError(Throwable error) {
                end.completeExceptionally(error);
            }
        });
        MessageDigest writeDigest = MessageDigest.getInstance("SHA-256");
        Random rnd = new Random(size);
        ByteSink in = cat.stdin();
        LoopFuture<Void> last = LoopFuture.completed(null);
        for (long left = size; left > 0; ) {
            byte[] chunk = new byte[(int) Math.min(256 * 1024, left)];
            rnd.nextBytes(chunk);
            writeDigest.update(chunk);
            if (!in.isWritable()) {
                get(in.whenWritable());
            }
            last = in.write(chunk);
            left -= chunk.length;
            assertTrue(in.queuedBytes() <= 64 * 1024 + chunk.length, "writer paced by the water marks: " + in.queuedBytes());
        }
        get(last);
        get(in.shutdownOutput());
        end.get(60, TimeUnit.SECONDS);
        assertEquals(size, readCount.get());
        assertArrayEquals(writeDigest.digest(), onLoop(loop, readDigest::digest), "digest of " + size + " bytes");
        assertEquals(ExitStatus.ofExitCode(0), get(cat.onExit()));
        get(cat.onDrained());
    }

    /** Text with multi-byte characters, line by line through the line reader, checked line for line. */
    @Test
    @Timeout(60)
    void catRoundTripsTextLineByLine() throws Exception {
        int count = 200_000; // about 10 MiB
        try (EventLoop loop = EventLoop.create("io-text")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            AtomicInteger seen = new AtomicInteger();
            AtomicReference<String> mismatch = new AtomicReference<>();
            CompletableFuture<Void> end = new CompletableFuture<>();
            cat.lines().listen(new LineReader.Listener() {
                @Override
                public void onLine(String line) {
                    int i = seen.getAndIncrement();
                    if (mismatch.get() == null && !line.equals(textLine(i))) {
                        mismatch.set("line " + i + ": '" + line + "'");
                    }
                }

                @Override
                public void onEnd() {
                    end.complete(null);
                }

                @Override
                public void onError(Throwable error) {
                    end.completeExceptionally(error);
                }
            });
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < count; i++) {
                batch.append(textLine(i)).append('\n');
                if (batch.length() > 32 * 1024 || i == count - 1) {
                    if (!cat.stdin().isWritable()) {
                        get(cat.stdin().whenWritable());
                    }
                    cat.stdin().write(batch.toString().getBytes(StandardCharsets.UTF_8));
                    batch.setLength(0);
                }
            }
            get(cat.stdin().shutdownOutput());
            end.get(30, TimeUnit.SECONDS);
            assertNull(mismatch.get());
            assertEquals(count, seen.get());
            assertTrue(get(cat.onExit()).isSuccess());
        }
    }

    private static String textLine(int i) {
        return "line " + i + " \u00e9t\u00e9 \u65e5\u672c \ud83d\ude00 " + "x".repeat(i % 37);
    }

    /** Without .loop(...), children are served by the shared default loop. */
    @Test
    @Timeout(20)
    void sharedDefaultLoopServesChildren() throws Exception {
        try (ChildProcess a = ChildProcess.builder("cat").start();
             ChildProcess b = ChildProcess.builder("cat").start()) {
            assertTrue(a.loop() == EventLoop.shared() && b.loop() == a.loop());
            assertEquals("on the shared loop", get(a.request("on the shared loop")));
            assertEquals("b too", get(b.request("b too")));
            get(a.stdin().shutdownOutput());
            assertTrue(get(a.onExit()).isSuccess());
            assertEquals("b still", get(b.request("b still")));
        }
    }

    // ---- backpressure -----------------------------------------------------------------------------

    /**
     * {@code yes} against a consumer paused for 5 s: the stream holds no more than its read limit and
     * the child is held back; once resumed, the bytes are exactly "y\n" repeated.
     */
    @Test
    @Timeout(40)
    void pausedConsumerHoldsYesBackWithBoundedMemory() throws Exception {
        try (EventLoop loop = EventLoop.create("io-yes")) {
            ChildProcess yes = ChildProcess.builder("yes").loop(loop).start();
            FdStream out = (FdStream) yes.stdout();
            YesChecker checker = new YesChecker();
            out.pause();
            out.listen(checker);
            AtomicInteger maxBuffered = new AtomicInteger();
            CompletableFuture<Void> pausedFor5s = after(loop, Duration.ofSeconds(5));
            Runnable sample = new Runnable() {
                @Override
                public void run() {
                    maxBuffered.accumulateAndGet(out.bufferedBytes(), Math::max);
                    if (!pausedFor5s.isDone()) {
                        loop.schedule(this, 10, TimeUnit.MILLISECONDS);
                    }
                }
            };
            loop.execute(sample);
            pausedFor5s.get(20, TimeUnit.SECONDS);
            int held = buffered(yes, out);
            assertEquals(0, checker.bytes.get(), "nothing is delivered while paused");
            assertTrue(held > 0, "yes did write");
            assertTrue(maxBuffered.get() <= 64 * 1024, "held at most the read limit: " + maxBuffered.get());
            assertTrue(maxBuffered.get() < MIB);
            assertTrue(yes.isAlive());

            out.resume();
            long target = held + 16L * MIB;
            await("16 MiB more of yes", () -> checker.bytes.get() >= target);
            assertTrue(buffered(yes, out) <= 64 * 1024);
            yes.close();
            assertEquals(ProcessControl.SIGKILL, get(yes.onExit()).signal());
            assertNull(checker.error.get(), checker.error.get());
            assertTrue(checker.bytes.get() >= target);
        }
    }

    /** Checks that the stream is "y\n" repeated: no byte lost, duplicated or changed across chunks. */
    private static final class YesChecker implements ByteSource.Listener {
        final AtomicLong bytes = new AtomicLong();
        final AtomicReference<String> error = new AtomicReference<>();

        @Override
        public void onData(ByteBuffer data) {
            long offset = bytes.get();
            while (data.hasRemaining()) {
                byte b = data.get();
                byte want = (offset & 1) == 0 ? (byte) 'y' : (byte) '\n';
                if (b != want && error.get() == null) {
                    error.set("byte " + offset + " is " + b + ", expected " + want);
                }
                offset++;
            }
            bytes.set(offset);
        }
    }

    /**
     * Pull reads never leave more than the read limit buffered, even when a read was waiting as a
     * big pipe became readable (the loop used to read up to its 128 KiB buffer then and keep the rest).
     */
    @Test
    @Timeout(20)
    void pullReadsNeverBufferMoreThanTheReadLimit() throws Exception {
        try (EventLoop loop = EventLoop.create("io-limit")) {
            ChildProcess yes = ChildProcess.builder("yes").loop(loop)
                    .readBufferLimit(4096).pipeBufferSize(MIB).start();
            FdStream out = (FdStream) yes.stdout();
            YesChecker checker = new YesChecker();
            int maxSeen = 0;
            for (int i = 0; i < 200; i++) {
                byte[] chunk = get(out.read(4096));
                checker.onData(ByteBuffer.wrap(chunk));
                maxSeen = Math.max(maxSeen, buffered(yes, out));
            }
            assertTrue(maxSeen <= 4096, "buffered beyond the read limit of 4096: " + maxSeen);
            assertNull(checker.error.get());
            yes.close();
            get(yes.onExit());
        }
    }

    // ---- half-close -------------------------------------------------------------------------------

    @Test
    @Timeout(60)
    void sortGetsAllOfItsInputAfterHalfClose() throws Exception {
        int count = 100_000;
        Random rnd = new Random(42);
        List<String> input = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            input.add(String.format("%09d", rnd.nextInt(1_000_000_000)));
        }
        try (EventLoop loop = EventLoop.create("io-sort")) {
            ChildProcess sort = ChildProcess.builder("sort").environment("LC_ALL", "C").loop(loop).start();
            List<String> output = Collections.synchronizedList(new ArrayList<>(count));
            CompletableFuture<Void> end = new CompletableFuture<>();
            sort.lines().listen(new LineReader.Listener() {
                @Override
                public void onLine(String line) {
                    output.add(line);
                }

                @Override
                public void onEnd() {
                    end.complete(null);
                }
            });
            for (String line : input) {
                sort.writeLine(line);
            }
            get(sort.stdin().shutdownOutput());
            end.get(30, TimeUnit.SECONDS);
            List<String> expected = new ArrayList<>(input);
            Collections.sort(expected);
            assertEquals(count, output.size());
            assertEquals(expected, output);
            assertTrue(get(sort.onExit()).isSuccess());
        }
    }

    @Test
    @Timeout(30)
    void closingOneCatsStdinEndsOnlyThatCat() throws Exception {
        try (EventLoop loop = EventLoop.create("io-two-cats")) {
            ChildProcess a = ChildProcess.builder("cat").loop(loop).start();
            ChildProcess b = ChildProcess.builder("cat").loop(loop).start();
            assertEquals("a1", get(a.request("a1")));
            assertEquals("b1", get(b.request("b1")));
            get(a.stdin().shutdownOutput());
            assertTrue(get(a.onExit()).isSuccess());
            assertFalse(a.isAlive());
            assertTrue(b.isAlive());
            for (int i = 0; i < 100; i++) {
                assertEquals("b after " + i, get(b.request("b after " + i)));
            }
            assertFalse(b.onExit().isDone());
            b.close();
            assertEquals(ProcessControl.SIGKILL, get(b.onExit()).signal());
        }
    }

    // ---- what the child inherits ------------------------------------------------------------------

    /** Looks at a cat blocked in read from outside: its fds are exactly the ones asked for. */
    @Test
    @Timeout(20)
    void childHasOnlyItsOwnFds() throws Exception {
        int[] leaky = new int[2];
        assertEquals(0, Native.LIBC.pipe2(leaky, 0)); // deliberately without O_CLOEXEC
        try (EventLoop loop = EventLoop.create("io-fds")) {
            assertEquals(List.of(0, 1, 2), fdsOfBlockedCat(ChildProcess.builder("cat").loop(loop)));
            assertEquals(List.of(0, 1, 2, 3),
                    fdsOfBlockedCat(ChildProcess.builder("cat").loop(loop).extraPipe(PipeDirection.FROM_CHILD)));
            assertEquals(List.of(0, 1, 2, 3, 4), fdsOfBlockedCat(ChildProcess.builder("cat").loop(loop)
                    .extraPipe(PipeDirection.TO_CHILD).extraPipe(PipeDirection.FROM_CHILD)));
            assertEquals(List.of(0, 1, 2),
                    fdsOfBlockedCat(ChildProcess.builder("cat").loop(loop).stderr(StderrMode.DISCARD)));
        } finally {
            Native.closeQuietly(leaky[0]);
            Native.closeQuietly(leaky[1]);
        }
    }

    private static List<Integer> fdsOfBlockedCat(ChildProcessBuilder b) throws Exception {
        try (ChildProcess cat = b.start()) {
            assertEquals("ping", get(cat.request("ping"))); // it has run, and now blocks reading
            return Leaks.fdsOf(cat.pid());
        }
    }

    // ---- broken pipe ------------------------------------------------------------------------------

    /** A child that stops reading and exits: the 10 MiB write fails with EPIPE, and the loop goes on serving others. */
    @Test
    @Timeout(30)
    void writeToAnExitedChildFailsWithBrokenPipe() throws Exception {
        try (EventLoop loop = EventLoop.create("io-epipe")) {
            ChildProcess other = ChildProcess.builder("cat").loop(loop).start();
            // Each script needs some of our bytes before it exits, so the write is surely issued while
            // the pipe still has a reader (a write after the child was reaped fails as closed instead).
            for (String script : new String[] {"head -c 100000 >/dev/null", "head -c 1 >/dev/null", "read x; exit 3"}) {
                ChildProcess quitter = ChildProcess.builder("sh", "-c", script).loop(loop).start();
                byte[] tenMiB = new byte[10 * MIB];
                java.util.Arrays.fill(tenMiB, (byte) '\n');
                LoopFuture<Void> write = quitter.stdin().write(tenMiB);
                BrokenPipeException e = failsWith(BrokenPipeException.class, write, script);
                assertTrue(e.getMessage().contains("EPIPE"), e.getMessage());
                assertTrue(get(quitter.onExit()).exited());
                // later writes fail the same way at once, rather than queueing forever
                failsWith(BrokenPipeException.class, quitter.stdin().write("more"));
                assertFalse(quitter.stdin().isWritable());
                assertEquals("still served after: " + script, get(other.request("still served after: " + script)));
                quitter.close();
            }
            other.close();
        }
    }

    // ---- concurrent writers -----------------------------------------------------------------------

    /**
     * 16 threads write records of many sizes (some larger than the pipe) to one cat: each record comes
     * back whole, and each thread's records in the order it wrote them.
     */
    @Test
    @Timeout(60)
    void concurrentWritersNeverInterleave() throws Exception {
        int threads = 16;
        int perThread = 400;
        try (EventLoop loop = EventLoop.create("io-writers")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            RecordParser parser = new RecordParser(threads);
            CompletableFuture<Void> end = new CompletableFuture<>();
            cat.stdout().listen(new ByteSource.Listener() {
                @Override
                public void onData(ByteBuffer data) {
                    parser.feed(data);
                }

                @Override
                public void onEnd() {
                    end.complete(null);
                }
            });
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<LoopFuture<Void>>> writers = new ArrayList<>();
            try {
                for (int t = 0; t < threads; t++) {
                    int tid = t;
                    writers.add(pool.submit(() -> {
                        Random rnd = new Random(tid);
                        go.await();
                        LoopFuture<Void> last = null;
                        for (int seq = 0; seq < perThread; seq++) {
                            int len = rnd.nextInt(10) < 8 ? rnd.nextInt(200) : rnd.nextInt(100_000);
                            if (!cat.stdin().isWritable()) {
                                cat.stdin().whenWritable().get(10, TimeUnit.SECONDS);
                            }
                            last = cat.stdin().write(record(tid, seq, len));
                        }
                        return last;
                    }));
                }
                go.countDown();
                for (Future<LoopFuture<Void>> w : writers) {
                    get(w.get(30, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
            get(cat.stdin().shutdownOutput());
            end.get(30, TimeUnit.SECONDS);
            assertNull(parser.error, parser.error);
            for (int t = 0; t < threads; t++) {
                assertEquals(perThread, parser.next[t], "records of thread " + t);
            }
            assertTrue(get(cat.onExit()).isSuccess());
        }
    }

    /** "tid seq len\n" then len body bytes, each a letter derived from tid and seq. */
    private static byte[] record(int tid, int seq, int len) {
        byte[] header = (tid + " " + seq + " " + len + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] r = new byte[header.length + len];
        System.arraycopy(header, 0, r, 0, header.length);
        java.util.Arrays.fill(r, header.length, r.length, bodyByte(tid, seq));
        return r;
    }

    private static byte bodyByte(int tid, int seq) {
        return (byte) ('a' + (tid * 31 + seq) % 26);
    }

    /** Streaming parser of records (loop thread); the first inconsistency is kept in {@link #error}. */
    private static final class RecordParser {
        final int[] next;
        volatile String error;
        private final StringBuilder header = new StringBuilder();
        private int tid;
        private int seq;
        private int bodyLeft = -1; // -1: reading a header

        RecordParser(int threads) {
            next = new int[threads];
        }

        void feed(ByteBuffer data) {
            while (data.hasRemaining() && error == null) {
                byte b = data.get();
                if (bodyLeft < 0) {
                    if (b != '\n') {
                        header.append((char) b);
                        if (header.length() > 40) {
                            error = "runaway header: " + header;
                        }
                        continue;
                    }
                    String[] f = header.toString().split(" ");
                    header.setLength(0);
                    try {
                        tid = Integer.parseInt(f[0]);
                        seq = Integer.parseInt(f[1]);
                        bodyLeft = Integer.parseInt(f[2]);
                    } catch (RuntimeException e) {
                        error = "bad header " + String.join(" ", f);
                        return;
                    }
                    if (tid < 0 || tid >= next.length || seq != next[tid]) {
                        error = "thread " + tid + ": record " + seq + " where " + (tid < next.length && tid >= 0 ? next[tid] : -1) + " was due";
                        return;
                    }
                    if (bodyLeft == 0) {
                        next[tid]++;
                        bodyLeft = -1;
                    }
                } else {
                    if (b != bodyByte(tid, seq)) {
                        error = "record " + tid + "/" + seq + " broken by byte " + b + " with " + bodyLeft + " to go";
                        return;
                    }
                    if (--bodyLeft == 0) {
                        next[tid]++;
                        bodyLeft = -1;
                    }
                }
            }
        }
    }

    // ---- extra pipes ------------------------------------------------------------------------------

    @Test
    @Timeout(20)
    void extraPipeFromChildOnFd3() throws Exception {
        try (EventLoop loop = EventLoop.create("io-extra");
             ChildProcess sh = ChildProcess.builder("sh", "-c", "echo side >&3; echo main")
                     .extraPipe(PipeDirection.FROM_CHILD).loop(loop).start()) {
            LineReader side = LineReader.of(sh.pipeFromChild(3));
            assertEquals("side", get(side.readLine()));
            assertNull(get(side.readLine()));
            assertEquals("main", get(sh.readLine()));
            assertTrue(get(sh.onDrained()).isSuccess());
            assertThrows(InvalidArgumentException.class, () -> sh.pipeToChild(3));
            assertThrows(InvalidArgumentException.class, () -> sh.pipeFromChild(4));
        }
    }

    @Test
    @Timeout(20)
    void extraPipeToChildOnFd3() throws Exception {
        try (EventLoop loop = EventLoop.create("io-extra");
             ChildProcess sh = ChildProcess.builder("sh", "-c", "cat <&3")
                     .extraPipe(PipeDirection.TO_CHILD).loop(loop).start()) {
            ByteSink fd3 = sh.pipeToChild(3);
            get(fd3.write("through fd 3\nand more\n"));
            get(fd3.shutdownOutput());
            assertEquals("through fd 3", get(sh.readLine()));
            assertEquals("and more", get(sh.readLine()));
            assertNull(get(sh.readLine()));
            assertTrue(get(sh.onExit()).isSuccess());
            assertThrows(InvalidArgumentException.class, () -> sh.pipeFromChild(3));
        }
    }

    // ---- stderr modes -----------------------------------------------------------------------------

    private static final String OUT_AND_ERR = "echo out; echo err >&2";

    @Test
    @Timeout(20)
    void stderrPipedSeparately() throws Exception {
        try (EventLoop loop = EventLoop.create("io-stderr");
             ChildProcess sh = ChildProcess.builder("sh", "-c", OUT_AND_ERR).stderr(StderrMode.PIPE).loop(loop).start()) {
            assertEquals("out", get(sh.readLine()));
            assertEquals("err", get(sh.errorLines().readLine()));
            assertNull(get(sh.readLine()));
            assertNull(get(sh.errorLines().readLine()));
            assertTrue(get(sh.onDrained()).isSuccess());
        }
    }

    @Test
    @Timeout(20)
    void stderrMergedIntoStdout() throws Exception {
        try (EventLoop loop = EventLoop.create("io-stderr");
             ChildProcess sh = ChildProcess.builder("sh", "-c", OUT_AND_ERR)
                     .stderr(StderrMode.MERGE_WITH_STDOUT).loop(loop).start()) {
            assertEquals("out", get(sh.readLine()));
            assertEquals("err", get(sh.readLine()));
            assertNull(get(sh.readLine()));
            assertThrows(InvalidArgumentException.class, sh::stderr);
            assertThrows(InvalidArgumentException.class, sh::errorLines);
            assertTrue(get(sh.onDrained()).isSuccess());
        }
    }

    @Test
    @Timeout(20)
    void stderrDiscarded() throws Exception {
        try (EventLoop loop = EventLoop.create("io-stderr");
             ChildProcess sh = ChildProcess.builder("sh", "-c", OUT_AND_ERR + "; readlink /proc/$$/fd/2")
                     .stderr(StderrMode.DISCARD).loop(loop).start()) {
            assertEquals("out", get(sh.readLine()));
            assertEquals("/dev/null", get(sh.readLine()));
            assertNull(get(sh.readLine()));
            assertThrows(InvalidArgumentException.class, sh::stderr);
            assertTrue(get(sh.onDrained()).isSuccess());
        }
    }

    @Test
    @Timeout(20)
    void stderrAppendedToAFile(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        Files.writeString(log, "before\n");
        try (EventLoop loop = EventLoop.create("io-stderr")) {
            for (int i = 0; i < 2; i++) {
                try (ChildProcess sh = ChildProcess.builder("sh", "-c", OUT_AND_ERR)
                        .stderrAppendTo(log).loop(loop).start()) {
                    assertEquals("out", get(sh.readLine()));
                    assertNull(get(sh.readLine()));
                    assertThrows(InvalidArgumentException.class, sh::stderr);
                    assertTrue(get(sh.onDrained()).isSuccess());
                }
            }
        }
        assertEquals("before\nerr\nerr\n", Files.readString(log));
    }
}
