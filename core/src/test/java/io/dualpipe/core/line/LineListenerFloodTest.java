package io.dualpipe.core.line;

import io.dualpipe.core.CallbackFloodLog;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.TestSupport;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A line listener that throws on every line, of a child's output or a socket read for weeks, is
 * logged within its class's budget; every line is still delivered once and in order, and a different
 * listener class's first failure still reaches WARN.
 */
class LineListenerFloodTest {
    private static final int FLOOD = 10_000;
    private static final String LOGGER = "io.dualpipe.core.line.LineReader";

    /** Keeps each line, then throws while it has at most {@code quietAfter}. */
    private static final class BuggyListener implements LineReader.Listener {
        final List<String> got = new CopyOnWriteArrayList<>();
        private final int quietAfter;

        BuggyListener(int quietAfter) {
            this.quietAfter = quietAfter;
        }

        @Override
        public void onLine(String line) {
            got.add(line);
            if (got.size() <= quietAfter) {
                throw new IllegalStateException("line listener bug on " + line);
            }
        }

        @Override
        public String toString() {
            return "buggy-line-listener";
        }
    }

    @Test
    @Timeout(60)
    void aLineListenerClassThatThrowsOnEveryLineStaysWithinItsBudget() throws Exception {
        SortedMap<Integer, String> fds = TestSupport.fdSnapshotWithoutSockets();
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER);
             EventLoop loop = EventLoop.create("flood-lines")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "lines.in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "lines.out", 64 * 1024, 32 * 1024);
            LineReader lines = LineReader.of(in, 1024, StandardCharsets.UTF_8, 1 << 20);
            BuggyListener buggy = new BuggyListener(FLOOD);
            lines.listen(buggy);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i <= FLOOD; i++) {
                text.append("line ").append(i).append('\n');
            }
            out.write(text.toString()).get(20, TimeUnit.SECONDS);
            TestSupport.await("every line delivered", Duration.ofSeconds(20), () -> buggy.got.size() == FLOOD + 1);
            assertEquals(IntStream.rangeClosed(0, FLOOD).mapToObj(i -> "line " + i).toList(), buggy.got,
                    "every line once and in order, though the listener threw on all but the last");

            FdChannel[] q = FdChannel.pipe();
            FdStream otherIn = FdStream.source(loop, q[0], "other.in", 64 * 1024);
            FdStream otherOut = FdStream.sink(loop, q[1], "other.out", 64 * 1024, 32 * 1024);
            LineReader.of(otherIn, 1024, StandardCharsets.UTF_8, 1 << 20).listen(new LineReader.Listener() {
                @Override
                public void onLine(String line) {
                    throw new IllegalStateException("other line listener bug");
                }

                @Override
                public String toString() {
                    return "other-line-listener";
                }
            });
            otherOut.write("x\n").get(10, TimeUnit.SECONDS);
            log.assertFirstWarned(m -> m.contains("line listener other-line-listener threw"));
            out.close();
            in.close();
            otherOut.close();
            otherIn.close();
            log.assertBounded(m -> m.contains("line listener buggy-line-listener threw"), FLOOD);
        }
        assertEquals(fds, TestSupport.fdSnapshotWithoutSockets(), "fds back to the baseline");
    }
}
