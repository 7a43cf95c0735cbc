package io.dualpipe.core.line;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Request lines are encoded into the writing thread's scratch: what the kernel does not take at once
 * must be queued as a copy, intact however often the scratch is reused by the requests after it.
 */
class ConversationScratchTest {

    @Test
    @Timeout(60)
    void linesQueuedBehindAFullPipeArriveIntactAndInOrder() throws Exception {
        try (EventLoop loop = EventLoop.create("conv-scratch")) {
            FdChannel[] replies = FdChannel.pipe();
            FdChannel[] requests = FdChannel.pipe();
            FdStream out = FdStream.sink(loop, requests[1], "requests", 64 * 1024, 32 * 1024);
            Conversation c = Conversation.builder(out, LineReader.of(FdStream.source(loop, replies[0], "replies", 64 * 1024)))
                    .pipelined(true).build();
            Random r = new Random(5);
            List<String> sent = new ArrayList<>();
            List<LoopFuture<String>> pending = new ArrayList<>();
            // ~1.3 MB of requests into a 64 KiB pipe nobody reads yet: most are queued, one is cut.
            for (int i = 0; i < 2000; i++) {
                StringBuilder b = new StringBuilder(i + ":");
                int len = r.nextInt(i % 10 == 0 ? RequestLine.SCRATCH_BYTES + 100 : 1200);
                for (int k = 0; k < len; k++) {
                    b.append((char) (k % 7 == 6 && i % 3 == 0 ? 'é' : 'a' + r.nextInt(26)));
                }
                sent.add(b.toString());
                pending.add(c.request(b.toString()));
            }
            assertTrue(out.queuedBytes() > 0, "requests were queued behind the full pipe");
            FdStream child = FdStream.source(loop, requests[0], "child's stdin", 64 * 1024);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            int expected = sent.stream().mapToInt(s -> s.getBytes(UTF_8).length + 1).sum();
            while (got.size() < expected) {
                got.write(child.read(100_000).get(10, TimeUnit.SECONDS));
            }
            String[] lines = got.toString(UTF_8).split("\n", -1);
            assertEquals(sent.size() + 1, lines.length, "every line, then nothing after the last LF");
            for (int i = 0; i < sent.size(); i++) {
                assertEquals(sent.get(i), lines[i], "line " + i);
            }
            assertEquals(2000, c.outstanding());
            replies[1].close();
            child.close();
        }
    }
}
