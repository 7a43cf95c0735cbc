package io.dualpipe.fifo;

import io.dualpipe.Leaks;
import io.dualpipe.TestLoops;
import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 15: FIFOs as a server meets them over weeks. Opens with nobody on the other side, readers
 * that go away under a blocked writer, end of stream and the writer after it, paths that are not
 * FIFOs, and many opens and closes against the fd and thread baseline.
 */
class Review15FifoTest {
    private static final FifoWriterOptions NO_WAIT = FifoWriterOptions.defaults().timeout(Duration.ofMillis(50));

    @TempDir
    Path dir;
    Path fifo;
    EventLoop loop;

    @BeforeEach
    void setUp() {
        fifo = dir.resolve("f");
        Fifo.create(fifo);
        loop = EventLoop.create("review15-fifo");
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    private static Throwable failure(LoopFuture<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    @Timeout(30)
    void aWriterBlockedOnAFullFifoFailsTypedWhenItsReaderGoesAway() throws Exception {
        ByteSource source = Fifo.openReader(fifo, loop).get(); // pull mode and nobody reads: it fills
        ByteSink sink = Fifo.openWriter(fifo, loop).get(10, TimeUnit.SECONDS);
        LoopFuture<Void> big = sink.write(new byte[4 << 20]); // far more than the pipe and the loop's buffer hold
        assertTrue(!big.isDone(), "4 MiB cannot have been taken by a reader that never reads");
        source.close();
        assertInstanceOf(BrokenPipeException.class, failure(big));
        assertInstanceOf(BrokenPipeException.class, failure(sink.write("more")));
        sink.close();
        FifoTesting.awaitOnLoop(loop, "every fd on the fifo closed", () -> FifoTesting.noFdsOn(fifo));
    }

    @Test
    @Timeout(30)
    void aWriterWhoseShellReaderExitsGetsABrokenPipeAndTheJvmLives() throws Exception {
        ChildProcess head = ChildProcess.builder("head", "-c", "3", fifo.toString()).loop(loop).start();
        try {
            ByteSink sink = Fifo.openWriter(fifo, loop).get(10, TimeUnit.SECONDS);
            sink.write("abc").get(10, TimeUnit.SECONDS);
            assertEquals("abc", new String(head.stdout().readAll(100).get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
            assertEquals(0, head.onExit().get(10, TimeUnit.SECONDS).exitCode());
            assertInstanceOf(BrokenPipeException.class, failure(sink.write("nobody reads this")));
            sink.close();
        } finally {
            head.close();
        }
    }

    @Test
    @Timeout(30)
    void afterTheEndOfStreamTheReaderIsGoneAndANewWriterWaitsForTheNextOne() throws Exception {
        ByteSource source = Fifo.openReader(fifo, loop).get();
        ByteSink first = Fifo.openWriter(fifo, loop).get(10, TimeUnit.SECONDS);
        first.write("one").get(10, TimeUnit.SECONDS);
        first.close();
        assertArrayEquals("one".getBytes(StandardCharsets.US_ASCII), source.readAll(100).get(10, TimeUnit.SECONDS));
        assertArrayEquals(new byte[0], source.read(10).get(10, TimeUnit.SECONDS));
        assertArrayEquals(new byte[0], source.read(10).get(10, TimeUnit.SECONDS), "the end, every time");
        // The ended reader gave its fd back, so a writer does not connect to a reader that is gone.
        FifoTesting.awaitOnLoop(loop, "the ended reader's fd closed", () -> FifoTesting.noFdsOn(fifo));
        assertInstanceOf(FifoOpenTimeoutException.class, failure(Fifo.openWriter(fifo, loop, NO_WAIT)));
        source.close();
        ByteSource again = Fifo.openReader(fifo, loop).get();
        ByteSink second = Fifo.openWriter(fifo, loop).get(10, TimeUnit.SECONDS);
        second.write("two").get(10, TimeUnit.SECONDS);
        second.close();
        assertArrayEquals("two".getBytes(StandardCharsets.US_ASCII), again.readAll(100).get(10, TimeUnit.SECONDS));
        again.close();
    }

    @Test
    @Timeout(30)
    void keptOpenForWritersTheStreamSpansWritersAndClosingGivesBothFdsBack() throws Exception {
        ByteSource source = Fifo.openReader(fifo, loop, FifoReaderOptions.defaults().keepOpenForWriters(true)).get();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int i = 0; i < 20; i++) {
            ByteSink w = Fifo.openWriter(fifo, loop).get(10, TimeUnit.SECONDS);
            w.write("w" + i + ";").get(10, TimeUnit.SECONDS);
            w.close();
        }
        String expected = java.util.stream.IntStream.range(0, 20).mapToObj(i -> "w" + i + ";").collect(Collectors.joining());
        while (got.size() < expected.length()) {
            byte[] b = source.read(1000).get(10, TimeUnit.SECONDS);
            assertTrue(b.length > 0, "end of stream although kept open for writers, after " + got);
            got.writeBytes(b);
        }
        assertEquals(expected, got.toString(StandardCharsets.US_ASCII));
        source.close();
        FifoTesting.awaitOnLoop(loop, "the reader's and the keeper's fds closed", () -> FifoTesting.noFdsOn(fifo));
        assertInstanceOf(FifoOpenTimeoutException.class, failure(Fifo.openWriter(fifo, loop, NO_WAIT)));
    }

    @Test
    @Timeout(30)
    void pathsThatAreNotFifosAreTypedErrorsForBothSides() throws Exception {
        Path missing = dir.resolve("missing");
        Path directory = Files.createDirectory(dir.resolve("d"));
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
        Path loopLink = dir.resolve("loop");
        Files.createSymbolicLink(loopLink, loopLink);
        Path underAFile = Files.writeString(dir.resolve("file"), "x").resolve("child");
        Path devNull = Path.of("/dev/null");
        Leaks.Baseline before = Leaks.baseline();
        for (Path p : List.of(missing, directory, dangling, loopLink, underAFile, devNull)) {
            Throwable r = failure(Fifo.openReader(p, loop));
            Throwable w = failure(Fifo.openWriter(p, loop));
            for (Throwable t : List.of(r, w)) {
                assertInstanceOf(FifoException.class, t, p + ": " + t);
                assertTrue(t.getMessage().contains(p.toString()), p + ": the message names the path: " + t.getMessage());
            }
        }
        assertInstanceOf(NoSuchFifoException.class, failure(Fifo.openReader(missing, loop)));
        assertInstanceOf(NotAFifoException.class, failure(Fifo.openWriter(directory, loop)));
        assertInstanceOf(NotAFifoException.class, failure(Fifo.openReader(devNull, loop)));
        Leaks.assertNoFdsBeyond(before);
    }

    @Test
    @Timeout(30)
    void aSymbolicLinkToAFifoOpensTheFifoOnBothSides() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("link"), fifo);
        ByteSource source = Fifo.openReader(link, loop).get();
        ByteSink sink = Fifo.openWriter(link, loop).get(10, TimeUnit.SECONDS);
        sink.write("via link").get(10, TimeUnit.SECONDS);
        sink.close();
        assertEquals("via link", new String(source.readAll(100).get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        source.close();
    }

    @Test
    @Timeout(30)
    void aFifoDeletedUnderAWaitingWriterFailsItTyped() throws Exception {
        LoopFuture<ByteSink> pending = Fifo.openWriter(fifo, loop, FifoWriterOptions.defaults().backoff(Duration.ofMillis(1), Duration.ofMillis(5)));
        assertTrue(Fifo.delete(fifo));
        assertInstanceOf(NoSuchFifoException.class, failure(pending));
    }

    @Test
    @Timeout(30)
    void aFifoReplacedByARegularFileUnderAWaitingWriterIsRefusedAndNeverWritten() throws Exception {
        LoopFuture<ByteSink> pending = Fifo.openWriter(fifo, loop, FifoWriterOptions.defaults().backoff(Duration.ofMillis(1), Duration.ofMillis(5)));
        assertTrue(Fifo.delete(fifo));
        Path tmp = Files.writeString(dir.resolve("tmp"), "");
        Files.move(tmp, fifo); // atomically: the writer sees no gap, so no ENOENT
        Throwable t = failure(pending);
        // NoSuchFifoException if an attempt fell between the delete and the move
        assertTrue(t instanceof NotAFifoException || t instanceof NoSuchFifoException, t.toString());
        assertEquals(0, Files.size(fifo));
        assertEquals(List.of(), FifoTesting.fdsOn(fifo));
    }

    @Test
    @Timeout(30)
    void opensOnAClosedLoopFailTypedAndLeaveNoFd() throws Exception {
        EventLoop other = EventLoop.create("review15-closed");
        other.close();
        Leaks.Baseline before = Leaks.baseline();
        assertInstanceOf(LoopClosedException.class, failure(Fifo.openReader(fifo, other)));
        assertInstanceOf(LoopClosedException.class, failure(Fifo.openWriter(fifo, other))); // no reader: the retry is refused
        ByteSource source = Fifo.openReader(fifo, loop).get();
        assertInstanceOf(LoopClosedException.class, failure(Fifo.openWriter(fifo, other))); // a reader: the stream is refused
        source.close();
        FifoTesting.awaitOnLoop(loop, "every fd on the fifo closed", () -> FifoTesting.noFdsOn(fifo));
        Leaks.assertNoFdsBeyond(before);
    }

    @Test
    @Timeout(120)
    void manyOpensClosesTimeoutsAndCancelsReturnToTheBaseline() throws Exception {
        cycle(0); // warm up: classes, libraries
        Set<Long> threadsBefore = threadIds();
        Leaks.Baseline before = Leaks.baseline();
        for (int i = 1; i <= 300; i++) {
            cycle(i);
        }
        FifoTesting.awaitOnLoop(loop, "every fd on the fifo closed", () -> FifoTesting.noFdsOn(fifo));
        Leaks.awaitNoFdsBeyond(before);
        assertEquals(0, (int) TestLoops.onLoop(loop, () -> SingleThreadEventLoop.of(loop).pendingTimers()), "timers left on the loop");
        Set<Long> extra = threadIds();
        extra.removeAll(threadsBefore);
        List<String> names = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (extra.contains(t.getId()) && !t.getName().startsWith("ForkJoinPool")) {
                names.add(t.getName());
            }
        }
        assertEquals(List.of(), names, "threads started by the fifo opens");
    }

    /** One round of the things a server does to a FIFO; every path closes what it opened. */
    private void cycle(int i) throws Exception {
        boolean keep = i % 2 == 0;
        ByteSource source = Fifo.openReader(fifo, loop, FifoReaderOptions.defaults().keepOpenForWriters(keep)).get();
        ByteSink sink = Fifo.openWriter(fifo, loop).get(10, TimeUnit.SECONDS);
        sink.write("m" + i).get(10, TimeUnit.SECONDS);
        byte[] b = source.read(100).get(10, TimeUnit.SECONDS);
        assertEquals("m" + i, new String(b, StandardCharsets.US_ASCII));
        sink.close();
        source.close();
        // No reader now (or soon): a zero timeout tries once and gives up; a pending one is cancelled.
        FifoTesting.awaitOnLoop(loop, "the reader's fds closed", () -> FifoTesting.noFdsOn(fifo));
        Throwable t = failure(Fifo.openWriter(fifo, loop, FifoWriterOptions.defaults().timeout(Duration.ZERO)));
        assertInstanceOf(FifoOpenTimeoutException.class, t);
        LoopFuture<ByteSink> pending = Fifo.openWriter(fifo, loop);
        if (i % 3 == 0) {
            // A reader appears while the writer is being cancelled: whoever wins, nothing stays open.
            ByteSource late = Fifo.openReader(fifo, loop).get();
            pending.cancel(false);
            try {
                pending.get(10, TimeUnit.SECONDS).close();
            } catch (CancellationException expected) {
                // cancelled before it connected
            }
            late.close();
        } else {
            pending.cancel(false);
        }
    }

    private static Set<Long> threadIds() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getId).collect(Collectors.toSet());
    }

    @Test
    @Timeout(30)
    void aWriterThatTimesOutWhileReadersComeAndGoLeavesNothingOpen() throws Exception {
        Leaks.Baseline before = Leaks.baseline();
        List<LoopFuture<ByteSink>> writers = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            writers.add(Fifo.openWriter(fifo, loop, FifoWriterOptions.defaults().timeout(Duration.ofMillis(20 + i))));
        }
        for (LoopFuture<ByteSink> w : writers) {
            assertInstanceOf(FifoOpenTimeoutException.class, failure(w));
        }
        FifoOpenTimeoutException e = (FifoOpenTimeoutException) failure(Fifo.openWriter(fifo, loop, NO_WAIT));
        assertTrue(e.attempts() >= 1 && e.getMessage().contains(fifo.toString()), e.getMessage());
        assertTrue(e instanceof DualPipeException);
        assertEquals(0, (int) TestLoops.onLoop(loop, () -> SingleThreadEventLoop.of(loop).pendingTimers()));
        Leaks.assertNoFdsBeyond(before);
    }
}
