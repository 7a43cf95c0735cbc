package io.dualpipe.net;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
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
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client side of a stalled graceful close: a server that accepts and never reads cannot hold a
 * client's closeGracefully() for longer than the client's own stall timeout
 * ({@link MessageClientBuilder#stallTimeout}), which review16 found could not be set on a client.
 */
class MessageClientStallTest {
    @TempDir
    Path dir;
    private EventLoop loop;
    private Leaks.Baseline baseline;

    @BeforeAll
    static void warmUp() throws Exception {
        try (SocketChannel ignored = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            // the JDK's NIO keeps a pre-close socket for good once used: open it before the baseline
        }
    }

    @BeforeEach
    void start() {
        baseline = Leaks.baseline();
        loop = EventLoop.create("client-stall");
    }

    @AfterEach
    void stop() throws Exception {
        loop.close();
        loop.terminationFuture().get(10, TimeUnit.SECONDS);
        Leaks.awaitNoFdsBeyond(baseline);
    }

    @Test
    @Timeout(30)
    void aServerThatNeverReadsFreesTheClientsGracefulCloseAfterItsStallTimeout() throws Exception {
        Path sock = dir.resolve("deaf.sock");
        try (ServerSocketChannel deafServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            deafServer.bind(UnixDomainSocketAddress.of(sock));
            MessageClient client = MessageClient.builder(codecs()).loop(loop).stallTimeout(Duration.ofMillis(300))
                    .connect(sock).get(10, TimeUnit.SECONDS);
            try (SocketChannel accepted = deafServer.accept()) {
                MessageChannel c = client.channel();
                LoopFuture<Void> big = c.send(Codecs.BYTES, new byte[8 * 1024 * 1024]);
                TestSupport.eventually(Duration.ofSeconds(10), "the kernel's buffer filled", () -> c.queuedBytes() > 4 * 1024 * 1024);
                assertFalse(big.isDone());
                ExecutionException e = assertThrows(ExecutionException.class, () -> c.closeGracefully().get(10, TimeUnit.SECONDS));
                PeerStalledException stalled = assertInstanceOf(PeerStalledException.class, e.getCause());
                assertTrue(stalled.getMessage().contains("for PT0.3S"), stalled.getMessage());
                assertTrue(big.isCompletedExceptionally(), "the unsent frame's future failed");
                assertFalse(client.isConnected());
            } finally {
                client.close();
            }
        }
        assertEquals("stallTimeout <= 0: PT0S", assertThrows(InvalidArgumentException.class,
                () -> MessageClient.builder(codecs()).stallTimeout(Duration.ZERO)).getMessage());
    }
}
