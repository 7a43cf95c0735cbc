package io.dualpipe.review13;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.net.MessageClient;
import io.dualpipe.net.MessageClientBuilder;
import io.dualpipe.net.MessageServer;
import io.dualpipe.net.MessageServerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A builder reused after bind/connect must not change what was bound or connected: each takes a
 * snapshot of the channel settings (handlers, frame size) at that moment.
 */
class BuilderReuseTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void serverAndClientKeepTheSettingsOfTheirBind() throws Exception {
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        try (EventLoop loop = EventLoop.create("r13-builder-reuse")) {
            MessageServerBuilder sb = MessageServer.builder(codecs).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply("first:" + s));
            MessageServer first = sb.bind(dir.resolve("a.sock"));
            sb.handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply("second:" + s)).maxFrameSize(64);
            MessageServer second = sb.bind(dir.resolve("b.sock"));

            MessageClientBuilder cb = MessageClient.builder(codecs).loop(loop);
            MessageClient big = cb.connect(dir.resolve("a.sock")).get(5, TimeUnit.SECONDS);
            cb.maxFrameSize(64); // after connect: must not shrink the connected client's frames
            MessageClient small = cb.connect(dir.resolve("a.sock")).get(5, TimeUnit.SECONDS);

            String longLine = "x".repeat(1000);
            assertEquals("first:" + longLine, big.request(longLine, String.class).get(5, TimeUnit.SECONDS));
            assertEquals("first:hi", small.request("hi", String.class).get(5, TimeUnit.SECONDS));
            assertThrows(Exception.class, () -> small.request(longLine, String.class).get(5, TimeUnit.SECONDS),
                    "the second client took maxFrameSize 64");

            MessageClient toSecond = MessageClient.builder(codecs).loop(loop).connect(dir.resolve("b.sock")).get(5, TimeUnit.SECONDS);
            assertEquals("second:hi", toSecond.request("hi", String.class).get(5, TimeUnit.SECONDS));
            // the second server's 64-byte frames refuse a long request; the first server took it above
            assertThrows(ExecutionException.class, () -> toSecond.request(longLine, String.class).get(5, TimeUnit.SECONDS));

            big.close();
            small.close();
            toSecond.close();
            first.close();
            second.close();
        }
    }
}
