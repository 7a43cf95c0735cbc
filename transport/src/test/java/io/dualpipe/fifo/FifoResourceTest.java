package io.dualpipe.fifo;

import io.dualpipe.Leaks;
import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.line.LineReader;
import jnr.constants.platform.OpenFlags;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** File descriptors: their flags, and that closing gives every one of them back. Linux /proc only. */
class FifoResourceTest {
    @TempDir
    Path dir;
    Path fifo;
    EventLoop loop;

    @BeforeEach
    void setUp() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fdinfo")), "needs /proc/self/fdinfo");
        fifo = dir.resolve("f");
        Fifo.create(fifo);
        loop = EventLoop.create("fifo-fd-test");
    }

    @AfterEach
    void tearDown() {
        if (loop != null) {
            loop.close();
        }
    }

    @Test
    @Timeout(10)
    void everyFdIsNonBlockingAndCloseOnExec() throws Exception {
        ByteSource source = Fifo.openReader(fifo, loop, FifoReaderOptions.defaults().keepOpenForWriters(true)).get();
        ByteSink sink = Fifo.openWriter(fifo, loop).get(5, TimeUnit.SECONDS);
        List<Integer> fds = FifoTesting.fdsOn(fifo);
        assertEquals(3, fds.size(), "reader, its keep-open writer, and the writer: " + fds);
        int nonBlock = OpenFlags.O_NONBLOCK.intValue();
        int cloExec = OpenFlags.O_CLOEXEC.intValue();
        for (int fd : fds) {
            int flags = FifoTesting.openFlags(fd);
            assertTrue((flags & nonBlock) != 0, "fd " + fd + " is not O_NONBLOCK: 0" + Integer.toOctalString(flags));
            assertTrue((flags & cloExec) != 0, "fd " + fd + " is not O_CLOEXEC: 0" + Integer.toOctalString(flags));
        }
        sink.close();
        source.close();
    }

    @Test
    @Timeout(10)
    void closingGivesEveryFdBack() throws Exception {
        openTalkClose(); // first use loads classes and libraries, which may keep fds (jars) open for good
        Leaks.Baseline before = Leaks.baseline();
        openTalkClose();
        Leaks.assertNoFdsBeyond(before);
    }

    @Test
    @Timeout(10)
    void failedOpensLeaveNoFdBehind() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThrows(ExecutionException.class, () -> Fifo.openReader(file, loop).get()); // warm up
        Leaks.Baseline before = Leaks.baseline();
        assertThrows(ExecutionException.class, () -> Fifo.openReader(file, loop).get());
        assertThrows(ExecutionException.class, () -> Fifo.openWriter(file, loop).get(5, TimeUnit.SECONDS));
        assertThrows(ExecutionException.class, () -> Fifo.openWriter(fifo, loop,
                FifoWriterOptions.defaults().timeout(java.time.Duration.ofMillis(20))).get(5, TimeUnit.SECONDS));
        // Nothing failed here was ever registered with the loop, so every fd is closed by now.
        Leaks.assertNoFdsBeyond(before);
    }

    @Test
    @Timeout(10)
    void closingTheLoopClosesTheKeepOpenFd() throws Exception {
        Fifo.openReader(fifo, loop, FifoReaderOptions.defaults().keepOpenForWriters(true)).get();
        assertEquals(2, FifoTesting.fdsOn(fifo).size());
        loop.close();
        assertEquals(List.of(), FifoTesting.fdsOn(fifo));
    }

    private void openTalkClose() throws Exception {
        ByteSource source = Fifo.openReader(fifo, loop, FifoReaderOptions.defaults().keepOpenForWriters(true)).get();
        LineReader lines = LineReader.of(source);
        ByteSink sink = Fifo.openWriter(fifo, loop).get(5, TimeUnit.SECONDS);
        sink.write("x\n");
        assertEquals("x", lines.readLine().get(5, TimeUnit.SECONDS));
        sink.close();
        source.close();
        FifoTesting.awaitOnLoop(loop, "every fd on the fifo closed", () -> FifoTesting.noFdsOn(fifo));
    }
}
