package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Builder arguments at and past their limits. */
class NetArgumentsTest {
    /** Past Long.MAX_VALUE nanoseconds: Duration.toNanos() would throw ArithmeticException. */
    private static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);

    @TempDir
    Path dir;

    @Test
    @Timeout(10)
    void portsOutOfRangeAreRejectedNamingTheValue() {
        MessageServerBuilder server = MessageServer.builder(codecs());
        MessageClientBuilder client = MessageClient.builder(codecs());
        assertEquals("port not in 0..65535: 70000",
                assertThrows(InvalidArgumentException.class, () -> server.bindTcp(70000)).getMessage());
        assertEquals("port not in 0..65535: -1",
                assertThrows(InvalidArgumentException.class, () -> server.bindTcp(-1)).getMessage());
        assertEquals("port not in 1..65535: 65536",
                assertThrows(InvalidArgumentException.class, () -> client.connectTcp(65536)).getMessage());
        assertEquals("port not in 1..65535: 0",
                assertThrows(InvalidArgumentException.class, () -> client.connectTcp(0)).getMessage());
    }

    @Test
    @Timeout(20)
    void durationsTooLongForNanosecondsMeanForever() throws Exception {
        try (EventLoop loop = EventLoop.create("forever");
             MessageServer unix = MessageServer.builder(codecs()).loop(loop).acceptBackoff(FOREVER)
                     .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s.toUpperCase())).bind(dir.resolve("s.sock"));
             MessageServer tcp = MessageServer.builder(codecs()).loop(loop).acceptBackoff(FOREVER)
                     .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s.toUpperCase())).bindTcp(0)) {
            MessageClientBuilder b = MessageClient.builder(codecs()).loop(loop).connectTimeout(FOREVER).retry(1, FOREVER);
            try (MessageClient c = b.connect(dir.resolve("s.sock")).get(10, TimeUnit.SECONDS)) {
                assertEquals("UNIX", c.request("unix", String.class).get(10, TimeUnit.SECONDS));
            }
            int port = ((InetSocketAddress) tcp.localAddress()).getPort();
            try (MessageClient c = b.connectTcp(port).get(10, TimeUnit.SECONDS)) {
                assertEquals("TCP", c.request("tcp", String.class).get(10, TimeUnit.SECONDS));
            }
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> b.connect(dir.resolve("missing.sock")).get(10, TimeUnit.SECONDS));
            assertInstanceOf(ConnectionRefusedException.class, e.getCause());
        }
    }
}
