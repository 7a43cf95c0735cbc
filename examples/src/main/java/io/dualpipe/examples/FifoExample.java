package io.dualpipe.examples;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.fifo.Fifo;
import io.dualpipe.fifo.FifoReaderOptions;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A named pipe between this JVM and a process it shares nothing with but a path: a FIFO server
 * reads the lines of two {@code sh} writers that run one after the other.
 *
 * <p>The reader is opened with {@code keepOpenForWriters}, so the stream does not end when the
 * first writer exits; it ends when we close it. Without the option it would end after the first.
 *
 * <p>Run: {@code mvn -q -pl examples -am compile exec:exec -Dmain=io.dualpipe.examples.FifoExample}
 */
public final class FifoExample {
    private FifoExample() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("dualpipe-fifo");
        Path fifo = dir.resolve("events");
        Fifo.create(fifo); // mode 0600: only this user's processes may write
        try (EventLoop loop = EventLoop.create("fifo-example")) {
            ByteSource source = Fifo.openReader(fifo, loop, FifoReaderOptions.defaults().keepOpenForWriters(true)).join();
            LineReader lines = LineReader.of(source);

            for (String writer : new String[] {"first", "second"}) {
                // The shell opens the FIFO with a plain blocking open(2); it succeeds because we read.
                try (ChildProcess sh = ChildProcess.builder("sh", "-c",
                        "for i in 1 2 3; do echo \"$1 writer (pid $$): event $i\"; done > \"$0\"", fifo.toString(), writer)
                        .loop(loop).start()) {
                    for (int i = 0; i < 3; i++) {
                        System.out.println("read: " + lines.readLine().get(5, TimeUnit.SECONDS));
                    }
                    ExitStatus status = sh.onExit().get(5, TimeUnit.SECONDS);
                    System.out.println(writer + " writer exited: " + status);
                }
            }
            System.out.println("stream ended between writers? " + source.endOfStream().isDone());
            source.close();
        } finally {
            Fifo.delete(fifo);
            Files.deleteIfExists(dir);
        }
    }
}
