package io.dualpipe.fifo;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.LineReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.fifo.FifoTesting.shWriter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The other end is a shell that shares nothing with this JVM but the FIFO's path. */
class FifoUnrelatedProcessTest {
    @TempDir
    Path dir;
    Path fifo;
    EventLoop loop;

    @BeforeEach
    void setUp() {
        fifo = dir.resolve("f");
        Fifo.create(fifo);
        loop = EventLoop.create("fifo-process-test");
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    @Test
    @Timeout(20)
    void linesFromAShellArriveThroughLineReader() throws Exception {
        LineReader lines = LineReader.of(Fifo.openReader(fifo, loop).get());
        Process sh = shWriter(fifo, "hi", "from sh");
        assertEquals("hi", lines.readLine().get(5, TimeUnit.SECONDS));
        assertEquals("from sh", lines.readLine().get(5, TimeUnit.SECONDS));
        assertNull(lines.readLine().get(5, TimeUnit.SECONDS), "end of stream when the shell closes the fifo");
        assertEquals(0, sh.waitFor());
    }

    @Test
    @Timeout(20)
    void withKeepOpenForWritersSuccessiveWritersShareOneStream() throws Exception {
        ByteSource source = Fifo.openReader(fifo, loop, FifoReaderOptions.defaults().keepOpenForWriters(true)).get();
        LineReader lines = LineReader.of(source);

        Process first = shWriter(fifo, "one");
        assertEquals("one", lines.readLine().get(5, TimeUnit.SECONDS));
        assertEquals(0, first.waitFor());
        // The first writer has closed. Let the loop select, and so see an end of stream (POLLHUP) if
        // there were one, before the second writer could hide it by opening.
        FifoTesting.loopTimer(loop, 20);
        assertFalse(source.endOfStream().isDone(), "no end of stream between writers");

        Process second = shWriter(fifo, "two");
        assertEquals("two", lines.readLine().get(5, TimeUnit.SECONDS));
        assertEquals(0, second.waitFor());

        source.close();
        ExecutionException closed = assertThrows(ExecutionException.class, () -> source.endOfStream().get(5, TimeUnit.SECONDS));
        assertInstanceOf(ChannelClosedException.class, closed.getCause(), "the stream ends only when closed");
    }

    @Test
    @Timeout(20)
    void withoutKeepOpenTheStreamEndsAfterTheFirstWriter() throws Exception {
        ByteSource source = Fifo.openReader(fifo, loop).get();
        LineReader lines = LineReader.of(source);
        Process first = shWriter(fifo, "one");
        assertEquals("one", lines.readLine().get(5, TimeUnit.SECONDS));
        assertNull(lines.readLine().get(5, TimeUnit.SECONDS));
        source.endOfStream().get(5, TimeUnit.SECONDS);
        assertEquals(0, first.waitFor());
    }

    @Test
    @Timeout(20)
    void aJavaWriterWaitsForAShellReader() throws Exception {
        LoopFuture<ByteSink> writer = Fifo.openWriter(fifo, loop);
        assertFalse(writer.isDone());
        Process sh = new ProcessBuilder("sh", "-c", "read line < \"$1\"; echo \"got $line\"", "sh", fifo.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        ByteSink sink = writer.get(5, TimeUnit.SECONDS);
        sink.write("ping\n").get(5, TimeUnit.SECONDS);
        assertEquals("got ping", new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
        assertEquals(0, sh.waitFor());
        sink.close();
    }
}
