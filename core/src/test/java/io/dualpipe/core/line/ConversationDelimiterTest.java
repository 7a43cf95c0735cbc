package io.dualpipe.core.line;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A request holding the reply stream's own delimiter is refused, as LF and CR are. */
class ConversationDelimiterTest {

    @Test
    @Timeout(30)
    void aRequestWithTheReplyDelimiterIsRefused() throws Exception {
        try (EventLoop loop = EventLoop.create("conv-delim")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            Conversation c = Conversation.over(out, LineReader.of(in, 1024, UTF_8, 64 * 1024, (byte) 0), UTF_8);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> c.request("a\0b"));
            assertEquals("request line has the reply delimiter 0x00 at index 1, which would split it into two lines"
                    + " and pair later replies with the wrong requests: 'a\\x00b'", e.getMessage());
            assertEquals(0, c.outstanding());
        }
    }
}
