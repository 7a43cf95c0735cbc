package io.dualpipe.core.message;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two channels that both send requests. Each used to stop reading once its replies backed up and a
 * chunk of input held a request from the peer; that also stopped it reading the replies to its own
 * requests, so when both did it at once, neither side got a single reply, for good.
 */
class MessageChannelBothWaysTest {
    private static final int N = 200;
    private static final int REPLY = 4 * 1024;
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("both-ways-test");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    /** Answers every text request with REPLY bytes, the request's number in the first one. */
    private static MessageChannelBuilder bigReplier() {
        return MessageChannel.builder(Pipes.codecs()).handle(Codecs.UTF8, String.class, (ctx, s) -> {
            byte[] r = new byte[REPLY];
            r[0] = (byte) Integer.parseInt(s.substring(1));
            ctx.reply(Codecs.BYTES, r);
        });
    }

    @Test
    @Timeout(60)
    void twoChannelsOverTwoPipesBothSendingRequestsGetEveryReply() throws Exception {
        Pipes p = new Pipes(loop, bigReplier(), bigReplier());
        List<LoopFuture<byte[]>> fromA = new ArrayList<>();
        List<LoopFuture<byte[]>> fromB = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            fromA.add(p.a.request(Codecs.UTF8, "a" + i, byte[].class, null));
            fromB.add(p.b.request(Codecs.UTF8, "b" + i, byte[].class, null));
        }
        int gotA = 0;
        int gotB = 0;
        for (int i = 0; i < N; i++) {
            byte[] expected = new byte[REPLY];
            expected[0] = (byte) i;
            assertArrayEquals(expected, fromA.get(i).get(20, TimeUnit.SECONDS), "a's request " + i);
            gotA++;
            assertArrayEquals(expected, fromB.get(i).get(20, TimeUnit.SECONDS), "b's request " + i);
            gotB++;
        }
        assertEquals(N, gotA);
        assertEquals(N, gotB);
        assertEquals(0, p.a.pendingRequests());
        assertEquals(0, p.b.pendingRequests());
    }
}
