package io.dualpipe.net;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.ProtocolException;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.PeerStalledException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Review 16: raw peers that stall, lie about lengths, or never read. */
class Review16HostilePeerTest {
    @TempDir
    Path dir;
    private EventLoop loop;
    private Leaks.Baseline baseline;

    @BeforeAll
    static void warmUp(@TempDir Path warmDir) throws Exception {
        try (EventLoop warm = EventLoop.create("r16-warm")) {
            MessageServer s = MessageServer.builder(codecs()).loop(warm).bind(warmDir.resolve("warm.sock"));
            MessageClient.builder(codecs()).loop(warm).connect(warmDir.resolve("warm.sock")).get(10, TimeUnit.SECONDS).close();
            s.close();
            try (SocketChannel ignored = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                // the JDK's NIO keeps a pre-close socket for good once used
            }
        }
    }

    @BeforeEach
    void start() {
        baseline = Leaks.baseline();
        loop = EventLoop.create("r16-hostile");
    }

    @AfterEach
    void stop() throws Exception {
        loop.close();
        loop.terminationFuture().get(10, TimeUnit.SECONDS);
        Leaks.awaitNoFdsBeyond(baseline);
    }

    private static SocketChannel raw(Path sock) throws Exception {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(sock));
        return ch;
    }

    private static void writeAll(SocketChannel ch, byte[] bytes) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** A request frame: type, flags 0x01 (request), id, length, body. */
    private static byte[] request(int type, int id, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(10 + body.length);
        b.put((byte) type).put((byte) 0x01).putInt(id).putInt(body.length).put(body);
        return b.array();
    }

    @Test
    @Timeout(30)
    void aHeaderOneOverMaxFrameSizeIsAProtocolErrorAndExactlyMaxIsServed() throws Exception {
        Path sock = dir.resolve("max.sock");
        LinkedBlockingQueue<Object> closedWith = new LinkedBlockingQueue<>();
        MessageServer server = MessageServer.builder(codecs()).loop(loop).maxFrameSize(1024)
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.UTF8, "got " + b.length))
                .onClose((c, e) -> closedWith.add(e == null ? "clean" : e))
                .bind(sock);
        try (SocketChannel ok = raw(sock)) {
            writeAll(ok, request(Codecs.BYTES, 1, new byte[1024]));
            ByteBuffer reply = ByteBuffer.allocate(10 + 8);
            while (reply.hasRemaining() && ok.read(reply) >= 0) {
                // a blocking read: the reply is 18 bytes
            }
            assertEquals("got 1024", new String(reply.array(), 10, 8, java.nio.charset.StandardCharsets.UTF_8));
        }
        assertEquals("clean", closedWith.poll(10, TimeUnit.SECONDS));
        try (SocketChannel bad = raw(sock)) {
            byte[] header = ByteBuffer.allocate(10).put((byte) Codecs.BYTES).put((byte) 1).putInt(2).putInt(1025).array();
            writeAll(bad, header);
            Object e = closedWith.poll(10, TimeUnit.SECONDS);
            ProtocolException p = assertInstanceOf(ProtocolException.class, e);
            assertTrue(p.getMessage().contains("1025 > maxFrameSize 1024"), p.getMessage());
            assertEquals(-1, bad.read(ByteBuffer.allocate(16)), "the server hung up");
        }
        server.close();
        assertFalse(Files.exists(sock));
    }

    /**
     * Fills the kernel's socket buffer towards a peer that never reads: one frame far larger than
     * it, so most of the frame stays queued with us. Returns the send's future (never completes).
     */
    private static LoopFuture<Void> wedge(MessageChannel c) throws Exception {
        LoopFuture<Void> big = c.send(Codecs.BYTES, new byte[8 * 1024 * 1024]);
        TestSupport.eventually(Duration.ofSeconds(10), "the kernel's buffer filled", () -> c.queuedBytes() > 4 * 1024 * 1024);
        assertFalse(big.isDone());
        return big;
    }

    /** stop() waited for good for a peer that never reads: the queued frame never drained. */
    @Test
    @Timeout(60)
    void stopEndsEvenWhenAPeerNeverReads() throws Exception {
        Path sock = dir.resolve("stop.sock");
        CompletableFuture<MessageChannel> conn = new CompletableFuture<>();
        CompletableFuture<Throwable> closedWith = new CompletableFuture<>();
        MessageServer server = MessageServer.builder(codecs()).loop(loop)
                .onOpen(conn::complete)
                .onClose((c, e) -> closedWith.complete(e))
                .bind(sock);
        try (SocketChannel deaf = raw(sock)) {
            MessageChannel c = conn.get(10, TimeUnit.SECONDS);
            LoopFuture<Void> big = wedge(c);
            LoopFuture<Void> stopped = server.stop();
            TestSupport.eventually(Duration.ofSeconds(10), "stop() removes the socket file", () -> !Files.exists(sock));
            stopped.get(40, TimeUnit.SECONDS); // the stall timeout (10 s), not for good
            assertInstanceOf(PeerStalledException.class, closedWith.get(10, TimeUnit.SECONDS));
            assertTrue(big.isCompletedExceptionally());
            assertEquals(0, server.connections().size());
        }
    }

    /** A peer that ends its output and never reads: its connection stayed open for good, the frame queued. */
    @Test
    @Timeout(60)
    void aPeerThatHalfClosesAndNeverReadsIsNotHeldForever() throws Exception {
        Path sock = dir.resolve("half.sock");
        CompletableFuture<MessageChannel> conn = new CompletableFuture<>();
        CompletableFuture<Throwable> closedWith = new CompletableFuture<>();
        MessageServer server = MessageServer.builder(codecs()).loop(loop)
                .onOpen(conn::complete)
                .onClose((c, e) -> closedWith.complete(e))
                .bind(sock);
        try (SocketChannel deaf = raw(sock)) {
            MessageChannel c = conn.get(10, TimeUnit.SECONDS);
            wedge(c);
            deaf.shutdownOutput(); // the server sees end of stream: it closes once its frames are out
            assertInstanceOf(PeerStalledException.class, closedWith.get(40, TimeUnit.SECONDS));
            assertFalse(c.isOpen());
        }
        server.close();
    }

    /**
     * A client that connects and sends nothing, and one that sends half a header and stalls: the
     * server has no idle limit (documented), so both are held, at the cost of their fd and a
     * 10-byte header buffer, until they or the server close; stop() then ends at once.
     */
    @Test
    @Timeout(30)
    void silentAndHalfHeaderClientsAreHeldUntilStopWhichEndsAtOnce() throws Exception {
        Path sock = dir.resolve("idle.sock");
        LinkedBlockingQueue<MessageChannel> opened = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Object> closedWith = new LinkedBlockingQueue<>();
        MessageServer server = MessageServer.builder(codecs()).loop(loop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                .onOpen(opened::add)
                .onClose((c, e) -> closedWith.add(e == null ? "clean" : e))
                .bind(sock);
        try (SocketChannel silent = raw(sock); SocketChannel half = raw(sock)) {
            writeAll(half, new byte[] {(byte) Codecs.UTF8, 0x01, 0, 0, 0});
            MessageChannel a = opened.poll(10, TimeUnit.SECONDS);
            MessageChannel b = opened.poll(10, TimeUnit.SECONDS);
            // A round trip on a third connection: the loop has read the half header by now.
            MessageClient probe = MessageClient.builder(codecs()).loop(loop).connect(sock).get(10, TimeUnit.SECONDS);
            assertEquals("ping", probe.request("ping", String.class).get(10, TimeUnit.SECONDS));
            probe.close();
            assertEquals("clean", closedWith.poll(10, TimeUnit.SECONDS));
            assertTrue(a.isOpen() && b.isOpen());
            // The probe leaves connections() just after its onClose has run.
            TestSupport.eventually(Duration.ofSeconds(10), "the probe's connection is forgotten", () -> server.connections().size() == 2);
            server.stop().get(10, TimeUnit.SECONDS);
            assertEquals(-1, silent.read(ByteBuffer.allocate(1)));
            assertEquals(-1, half.read(ByteBuffer.allocate(1)));
        }
        assertEquals(0, server.connections().size());
        assertFalse(Files.exists(sock));
    }

    /** The stall timeout that bounds stop() can be set on the server. */
    @Test
    @Timeout(30)
    void theServersStallTimeoutBoundsStop() throws Exception {
        Path sock = dir.resolve("short.sock");
        CompletableFuture<MessageChannel> conn = new CompletableFuture<>();
        CompletableFuture<Throwable> closedWith = new CompletableFuture<>();
        MessageServer server = MessageServer.builder(codecs()).loop(loop).stallTimeout(Duration.ofMillis(300))
                .onOpen(conn::complete)
                .onClose((c, e) -> closedWith.complete(e))
                .bind(sock);
        try (SocketChannel deaf = raw(sock)) {
            wedge(conn.get(10, TimeUnit.SECONDS));
            server.stop().get(20, TimeUnit.SECONDS);
            PeerStalledException e = assertInstanceOf(PeerStalledException.class, closedWith.get(10, TimeUnit.SECONDS));
            assertTrue(e.getMessage().contains("for PT0.3S"), e.getMessage());
        }
        assertEquals("stallTimeout <= 0: PT0S", org.junit.jupiter.api.Assertions.assertThrows(
                io.dualpipe.core.InvalidArgumentException.class, () -> MessageServer.builder(codecs()).stallTimeout(Duration.ZERO)).getMessage());
    }

    /**
     * A client that sends requests and never reads the replies: the server holds its requests up to
     * the backlog, stops reading, and closes the connection once the stall timeout passes with
     * nothing taken; other clients are served meanwhile.
     */
    @Test
    @Timeout(60)
    void aClientThatOnlySendsRequestsIsCutOffAfterTheStallTimeout() throws Exception {
        Path sock = dir.resolve("flood.sock");
        CompletableFuture<Throwable> closedWith = new CompletableFuture<>();
        CompletableFuture<MessageChannel> first = new CompletableFuture<>();
        MessageServer server = MessageServer.builder(codecs()).loop(loop).stallTimeout(Duration.ofMillis(500))
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, new byte[16 * 1024]))
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                .onOpen(first::complete)
                .onClose((c, e) -> {
                    if (c == first.getNow(null)) {
                        closedWith.complete(e);
                    }
                })
                .bind(sock);
        try (SocketChannel flood = raw(sock)) {
            MessageChannel c = first.get(10, TimeUnit.SECONDS);
            java.util.concurrent.atomic.AtomicLong maxQueued = new java.util.concurrent.atomic.AtomicLong();
            // A blocking writer: it blocks once the server stops reading, and fails once it hangs up.
            CompletableFuture<Long> writer = CompletableFuture.supplyAsync(() -> {
                ByteBuffer requests = ByteBuffer.wrap(request(Codecs.BYTES, 7, new byte[64]));
                long written = 0;
                try {
                    while (true) {
                        requests.rewind();
                        while (requests.hasRemaining()) {
                            written += flood.write(requests);
                        }
                        maxQueued.accumulateAndGet(c.queuedBytes(), Math::max);
                    }
                } catch (java.io.IOException hungUp) {
                    return written;
                }
            });
            assertInstanceOf(PeerStalledException.class, closedWith.get(30, TimeUnit.SECONDS));
            long written = writer.get(10, TimeUnit.SECONDS);
            assertTrue(written > 100 * 1024, "the backlog (256 KiB, 138 charged per 74-byte request) filled first: " + written);
            assertTrue(maxQueued.get() < 4 * 1024 * 1024, "the server queued " + maxQueued + " bytes of replies");
            MessageClient other = MessageClient.builder(codecs()).loop(loop).connect(sock).get(10, TimeUnit.SECONDS);
            assertEquals("still here", other.request("still here", String.class).get(10, TimeUnit.SECONDS));
            other.close();
        }
        server.close();
    }
}
