package io.dualpipe.net;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.message.Peer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Review 19 of the bounded warnings (0f9fe28) for uid rejections and protocol errors: each log site
 * has one budget of 20 WARN lines a minute for the whole JVM, keyed by nothing. So one local user
 * who is refused (or one client sending garbage) spends it, and for the rest of the minute a
 * different uid's rejection, or another server's first protocol error, is logged only at DEBUG:
 * the flood hides exactly the event an operator would look for. (onReject still sees every peer.)
 */
class Review19RejectionLogTest {
    private static final String SERVER_LOGGER = "io.dualpipe.net.internal.DefaultMessageServer";
    private static final String CHANNEL_LOGGER = "io.dualpipe.core.message.internal.DefaultMessageChannel";
    private static final int NOBODY = 65534;

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        // A directory another uid can reach: the second client runs as nobody.
        dir = Files.createTempDirectory(Path.of("/tmp"), "review19-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void removeDir() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Connects as this process's uid and waits until the server has closed the connection. */
    private static void connectAndWaitForClose(Path sock, byte[] send) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock));
            if (send != null) {
                c.write(ByteBuffer.wrap(send));
            }
            ByteBuffer b = ByteBuffer.allocate(64);
            while (c.read(b.clear()) >= 0) {
                // until the server closes it
            }
        }
    }

    @Test
    @Timeout(60)
    void aRefusedUidFloodingHidesNoOtherUidsRejection() throws Exception {
        Assumptions.assumeTrue(ProcessHandle.current().info().user().map("root"::equals).orElse(false),
                "needs root, to connect as another uid");
        Path sock = dir.resolve("s.sock");
        BlockingQueue<Peer> rejected = new LinkedBlockingQueue<>();
        try (EventLoop loop = EventLoop.create("review19-uid");
             DebugLogCapture log = new DebugLogCapture(SERVER_LOGGER)) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .allowUids(4242) // neither root nor nobody
                    .socketMode(0666)
                    .onReject(rejected::add)
                    .bind(sock);
            for (int i = 0; i < 25; i++) {
                connectAndWaitForClose(sock, null);
                assertNotNull(rejected.poll(20, TimeUnit.SECONDS));
            }
            Process other = new ProcessBuilder("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                    "/usr/bin/python3", "-c",
                    "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ns.recv(1)\n", sock.toString())
                    .redirectErrorStream(true).start();
            Peer p = rejected.poll(20, TimeUnit.SECONDS);
            assertNotNull(p, "nobody's connection was not rejected: " + new String(other.getInputStream().readAllBytes()));
            assertEquals(NOBODY, p.uid());
            assertEquals(0, other.waitFor());
            connectAndWaitForClose(sock, null); // the probe: is the budget still spent?
            assertNotNull(rejected.poll(20, TimeUnit.SECONDS));
            List<ILoggingEvent> all = log.matching(m -> m.contains("rejected a client"));
            assertEquals(27, all.size());
            Assumptions.assumeTrue(all.get(26).getLevel() == Level.DEBUG, "the limiter's window rolled over during the test");
            ILoggingEvent nobody = log.matching(m -> m.contains("rejected a client: uid " + NOBODY)).get(0);
            server.close();
            assertEquals(Level.WARN, nobody.getLevel(), "the first rejection of uid " + NOBODY
                    + " was hidden at DEBUG because uid 0 had been refused 25 times: " + nobody.getFormattedMessage());
        }
    }

    @Test
    @Timeout(60)
    void garbageOnOneServerHidesNoOtherServersFirstProtocolError() throws Exception {
        byte[] garbage = {0x01, (byte) 0x80, 0, 0, 0, 1, 0, 0, 0, 0}; // unknown flag bits
        try (EventLoop loop = EventLoop.create("review19-proto");
             DebugLogCapture log = new DebugLogCapture(CHANNEL_LOGGER)) {
            MessageServer noisy = MessageServer.builder(codecs()).loop(loop).bind(dir.resolve("noisy.sock"));
            MessageServer quiet = MessageServer.builder(codecs()).loop(loop).bind(dir.resolve("quiet.sock"));
            Predicate<String> protocolError = m -> m.contains("protocol error");
            for (int i = 0; i < 25; i++) {
                connectAndWaitForClose(dir.resolve("noisy.sock"), garbage);
            }
            TestSupport.eventually(Duration.ofSeconds(20), "the flood's protocol errors handled",
                    () -> log.matching(protocolError).size() == 25);
            connectAndWaitForClose(dir.resolve("quiet.sock"), garbage);
            TestSupport.eventually(Duration.ofSeconds(20), "the quiet server's protocol error handled",
                    () -> log.matching(protocolError).size() == 26);
            connectAndWaitForClose(dir.resolve("noisy.sock"), garbage); // the probe
            TestSupport.eventually(Duration.ofSeconds(20), "the probe handled", () -> log.matching(protocolError).size() == 27);
            List<ILoggingEvent> all = log.matching(protocolError);
            Assumptions.assumeTrue(all.get(26).getLevel() == Level.DEBUG, "the limiter's window rolled over during the test");
            ILoggingEvent quietOne = all.get(25);
            noisy.close();
            quiet.close();
            assertEquals(Level.WARN, quietOne.getLevel(), "another server's first protocol error was hidden at DEBUG by a"
                    + " flood on the first: " + quietOne.getFormattedMessage());
        }
    }
}
