package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeNetTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(20)
    void unixAndTcpRoundTrip() throws Exception {
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        try (EventLoop loop = EventLoop.create("smoke-net")) {
            MessageServer server = MessageServer.builder(codecs).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s + "!"))
                    .bind(dir.resolve("s.sock"));
            MessageClient c = MessageClient.builder(codecs).loop(loop).connect(dir.resolve("s.sock")).get(5, TimeUnit.SECONDS);
            assertEquals("hi!", c.request("hi", String.class).get(5, TimeUnit.SECONDS));
            MessageServer tcp = MessageServer.builder(codecs).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s + "?"))
                    .bindTcp(0);
            int port = ((java.net.InetSocketAddress) tcp.localAddress()).getPort();
            MessageClient t = MessageClient.builder(codecs).loop(loop).connectTcp(port).get(5, TimeUnit.SECONDS);
            assertEquals("hi?", t.request("hi", String.class).get(5, TimeUnit.SECONDS));
            c.close();
            t.close();
            server.close();
            tcp.close();
        }
    }
}
