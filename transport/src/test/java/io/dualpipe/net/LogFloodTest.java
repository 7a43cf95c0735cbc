package io.dualpipe.net;

import ch.qos.logback.classic.Level;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer decides how often a server logs about it: garbage on connection after connection, or one
 * undeliverable message after another. Each is still handled (and logged at DEBUG), but at most 20
 * warnings a minute reach the log per kind, so a misbehaving client cannot fill the disk.
 */
class LogFloodTest {
    private static final int FLOOD = 100;
    /** The channel's read side and its default error listener log under the channel's class. */
    private static final String CHANNEL_LOGGER = "io.dualpipe.core.message.internal.DefaultMessageChannel";

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void garbageOnConnectionAfterConnectionIsLoggedAtWarnAtMostTwentyTimes() throws Exception {
        Path sock = dir.resolve("flood.sock");
        try (EventLoop loop = EventLoop.create("flood");
             DebugLogCapture log = new DebugLogCapture(CHANNEL_LOGGER)) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .bind(sock);
            for (int i = 0; i < FLOOD; i++) {
                try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    c.connect(UnixDomainSocketAddress.of(sock));
                    // A header with unknown flag bits: a protocol error, the connection is closed.
                    c.write(ByteBuffer.wrap(new byte[] {0x01, (byte) 0x80, 0, 0, 0, 1, 0, 0, 0, 0}));
                    ByteBuffer b = ByteBuffer.allocate(16);
                    while (c.read(b.clear()) >= 0) {
                        // the server closes it
                    }
                }
            }
            TestSupport.eventually(Duration.ofSeconds(30), "every protocol error handled",
                    () -> log.count(Level.WARN, m -> m.contains("protocol error")) + log.count(Level.DEBUG, m -> m.contains("protocol error")) == FLOOD);
            long warned = log.count(Level.WARN, m -> m.contains("protocol error"));
            assertTrue(warned <= 20, warned + " warnings");
            server.close();
        }
    }

    @Test
    @Timeout(60)
    void undeliverableMessagesAreLoggedAtWarnAtMostTwentyTimes() throws Exception {
        Path sock = dir.resolve("bad.sock");
        try (EventLoop loop = EventLoop.create("flood");
             DebugLogCapture log = new DebugLogCapture(CHANNEL_LOGGER)) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                    .bind(sock);
            try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                c.connect(UnixDomainSocketAddress.of(sock));
                ByteBuffer frames = ByteBuffer.allocate(FLOOD * 12 + 12);
                for (int i = 0; i < FLOOD; i++) {
                    // one-way messages of type 0x02 (UTF-8) whose body is not UTF-8: undecodable
                    frames.put((byte) 0x02).put((byte) 0).putInt(0).putInt(2).put((byte) 0xff).put((byte) 0xfe);
                }
                frames.put((byte) 0x02).put((byte) 0x01).putInt(7).putInt(2).put((byte) 'o').put((byte) 'k'); // then a request
                frames.flip();
                while (frames.hasRemaining()) {
                    c.write(frames);
                }
                ByteBuffer reply = ByteBuffer.allocate(12);
                while (reply.hasRemaining() && c.read(reply) >= 0) {
                    // the reply to the request: every bad message before it was handled
                }
                assertEquals(0x02, reply.get(1) & 0xff, "a reply");
            }
            List<Level> levels = List.of(Level.WARN, Level.DEBUG);
            long all = 0;
            for (Level l : levels) {
                all += log.count(l, m -> m.contains("0x02"));
            }
            long warned = log.count(Level.WARN, m -> m.contains("0x02"));
            assertEquals(FLOOD, all);
            assertTrue(warned <= 20, warned + " warnings");
            server.close();
        }
    }
}
