package io.dualpipe.net;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 20 of 94e0319 (peer-triggered warnings budgeted per source), at the server: what a client
 * that connects in a loop can still make the server log without bound, and a source the new keys
 * do not tell apart. The rule: anything a peer or a faulty callback can trigger repeatedly must not
 * flood the log.
 */
class Review20CallbackFloodTest {
    private static final String SERVER_LOGGER = "io.dualpipe.net.internal.DefaultMessageServer";
    private static final String CONNECTIONS_LOGGER = "io.dualpipe.net.internal.ServerConnections";
    private static final String CHANNEL_LOGGER = "io.dualpipe.core.message.internal.DefaultMessageChannel";
    /** The most WARN lines a bounded site writes per minute (LogLimiter: 20 per key, five times that per site). */
    private static final int SITE_BUDGET = 100;
    private static final int CONNECTIONS = 150;

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = Files.createTempDirectory("review20-");
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Connects, sends {@code send} if any, and waits until the server has closed the connection (or, with {@code hangUp}, closes first). */
    private static void connect(Path sock, byte[] send, boolean hangUp) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock));
            if (send != null) {
                c.write(ByteBuffer.wrap(send));
            }
            if (hangUp) {
                return;
            }
            ByteBuffer b = ByteBuffer.allocate(64);
            while (c.read(b.clear()) >= 0) {
                // until the server closes it
            }
        }
    }

    /**
     * A uid the allow-list refuses connects in a loop; the server's onReject callback throws. The
     * rejection line is budgeted per uid (20 WARN), and DefaultMessageServer.call's "onReject
     * callback threw" line, with its stack trace, must stay within its site's budget too
     * (CallbackFailureLog), not come once per connection. Found unbounded by review 20 (150 of 150).
     */
    @Test
    @Timeout(60)
    void aThrowingOnRejectWarnsWithinTheSiteBudgetWhateverTheConnections() throws Exception {
        Path sock = dir.resolve("s.sock");
        AtomicInteger rejected = new AtomicInteger();
        try (EventLoop loop = EventLoop.create("review20-reject");
             DebugLogCapture log = new DebugLogCapture(SERVER_LOGGER)) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .allowUids(4242) // not us
                    .onReject(p -> {
                        rejected.incrementAndGet();
                        throw new IllegalStateException("onReject has a bug");
                    })
                    .bind(sock);
            for (int i = 0; i < CONNECTIONS; i++) {
                connect(sock, null, false);
            }
            TestSupport.eventually(Duration.ofSeconds(20), "every rejection reported", () -> rejected.get() == CONNECTIONS);
            long rejections = log.count(Level.WARN, m -> m.contains("rejected a client"));
            long threw = log.count(Level.WARN, m -> m.contains("onReject callback threw"));
            server.close();
            assertTrue(rejections <= 20, "the rejection line itself: " + rejections + " WARN lines");
            assertTrue(threw <= SITE_BUDGET, "one refused uid, " + CONNECTIONS + " connections: " + threw
                    + " WARN lines 'onReject callback threw', each with a stack trace, beside " + rejections + " budgeted rejection lines");
        }
    }

    /**
     * Any client that connects in a loop, with an onOpen callback that throws: the "onOpen callback
     * threw" line, with its stack trace, must stay within its site's budget (CallbackFailureLog), not
     * come once per connection. Found unbounded by review 20 (150 of 150).
     */
    @Test
    @Timeout(60)
    void aThrowingOnOpenWarnsWithinTheSiteBudgetWhateverTheConnections() throws Exception {
        Path sock = dir.resolve("s.sock");
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        try (EventLoop loop = EventLoop.create("review20-open");
             DebugLogCapture log = new DebugLogCapture(CONNECTIONS_LOGGER)) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .onOpen(ch -> {
                        opened.incrementAndGet();
                        throw new IllegalStateException("onOpen has a bug");
                    })
                    .onClose((ch, e) -> closed.incrementAndGet())
                    .bind(sock);
            for (int i = 0; i < CONNECTIONS; i++) {
                connect(sock, null, true);
            }
            TestSupport.eventually(Duration.ofSeconds(20), "every connection opened and closed",
                    () -> opened.get() == CONNECTIONS && closed.get() == CONNECTIONS);
            long threw = log.count(Level.WARN, m -> m.contains("onOpen callback threw"));
            server.close();
            assertTrue(threw <= SITE_BUDGET, CONNECTIONS + " connections made " + threw
                    + " WARN lines 'onOpen callback threw', each with a stack trace");
        }
    }

    /**
     * Over TCP every peer's uid is unknown (-1), so the protocol-error budget's key takes the peer's
     * host (not its port, new per connection) beside the server: a client on one host that sends
     * garbage in a loop must not hide, for the rest of the minute, the first protocol error of a
     * client on another host. Found one budget per server by review 20. Hosts here: 127.0.0.1 and
     * 127.0.0.2 (both loopback on Linux).
     */
    @Test
    @Timeout(60)
    void overTcpOneHostsGarbageHidesNoOtherHostsFirstProtocolError() throws Exception {
        byte[] garbage = {0x01, (byte) 0x80, 0, 0, 0, 1, 0, 0, 0, 0}; // unknown flag bits
        InetAddress noisyHost = InetAddress.getByName("127.0.0.1");
        InetAddress quietHost = InetAddress.getByName("127.0.0.2");
        try (EventLoop loop = EventLoop.create("review20-tcp");
             DebugLogCapture log = new DebugLogCapture(CHANNEL_LOGGER)) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            Predicate<String> protocolError = m -> m.contains("protocol error") && m.contains(":" + port + "#");
            for (int i = 0; i < 25; i++) {
                tcpConnect(noisyHost, port, garbage);
            }
            TestSupport.eventually(Duration.ofSeconds(20), "the flood's protocol errors handled",
                    () -> log.matching(protocolError).size() == 25);
            List<ILoggingEvent> flood = log.matching(protocolError);
            Assumptions.assumeTrue(flood.get(24).getLevel() == Level.DEBUG, "the limiter's window rolled over during the flood");
            tcpConnect(quietHost, port, garbage);
            TestSupport.eventually(Duration.ofSeconds(20), "the other host's protocol error handled",
                    () -> log.matching(protocolError).size() == 26);
            ILoggingEvent quiet = log.matching(protocolError).get(25);
            server.close();
            assertEquals(Level.WARN, quiet.getLevel(), "the first protocol error of a client on another host (" + quietHost
                    + ") was hidden at DEBUG by one host's flood: " + quiet.getFormattedMessage());
        }
    }

    private static void tcpConnect(InetAddress from, int port, byte[] send) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.INET)) {
            c.bind(new InetSocketAddress(from, 0));
            c.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
            c.write(ByteBuffer.wrap(send));
            ByteBuffer b = ByteBuffer.allocate(64);
            try {
                while (c.read(b.clear()) >= 0) {
                    // until the server closes it
                }
            } catch (IOException reset) {
                // the server may reset rather than close: done either way
            }
        }
    }
}
