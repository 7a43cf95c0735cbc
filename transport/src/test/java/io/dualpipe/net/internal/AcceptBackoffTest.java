package io.dualpipe.net.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.net.MessageServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the process out of file descriptors for real (no mocks): every free fd number is taken with
 * dup, then clients connect. The server's accept4 gets EMFILE; it must pause instead of spinning,
 * log once, and accept the waiting clients once fds are free again.
 */
class AcceptBackoffTest {
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final long BACKOFF_MS = 50;

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void outOfDescriptorsPausesAcceptingThenRecovers() throws Exception {
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        Path sock = dir.resolve("emfile.sock");
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(sock);
        AtomicInteger opened = new AtomicInteger();
        List<Integer> hogs = new ArrayList<>();
        ch.qos.logback.classic.Logger serverLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(DefaultMessageServer.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        serverLog.addAppender(logged);
        try (EventLoop loop = EventLoop.create("emfile")) {
            DefaultMessageServer server = (DefaultMessageServer) MessageServer.builder(codecs).loop(loop)
                    .acceptBackoff(Duration.ofMillis(BACKOFF_MS))
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s + " accepted"))
                    .onOpen(c -> opened.incrementAndGet())
                    .bind(sock);
            int[] clients = new int[3];
            for (int i = 0; i < clients.length; i++) {
                clients[i] = Sockets.open(address); // made now: connecting needs no new fd later
            }
            try {
                // Take every free descriptor.
                int seed = clients[0];
                while (true) {
                    int fd = Native.LIBC.fcntl(seed, F_DUPFD_CLOEXEC, 0);
                    if (fd < 0) {
                        assertEquals("EMFILE", Native.errnoName(Native.errno()));
                        break;
                    }
                    hogs.add(fd);
                }
                long start = System.nanoTime();
                for (int fd : clients) {
                    assertEquals(0, Sockets.connect(fd, address)); // waits in the backlog
                }
                // Each failed accept pauses accepting for the back-off; spinning would rack up failures at once.
                while (server.acceptBackoffs() < 4) {
                    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "no EMFILE back-off seen");
                    LockSupport.parkNanos(1_000_000);
                }
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(elapsedMs >= 3 * BACKOFF_MS, "4 failed accepts in " + elapsedMs + " ms: accepting was not paused");
                assertEquals(0, opened.get());
            } finally {
                for (int fd : hogs) {
                    Native.closeQuietly(fd);
                }
                hogs.clear();
            }
            // Descriptors are back: the next retry accepts the three waiting clients.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (opened.get() < clients.length) {
                assertTrue(System.nanoTime() < deadline, "waiting clients were not accepted after recovery");
                LockSupport.parkNanos(1_000_000);
            }
            long backoffs = server.acceptBackoffs();
            for (int i = 0; i < clients.length; i++) {
                FdStream s = FdStream.duplex(loop, new FdChannel(clients[i], SelectionKey.OP_READ | SelectionKey.OP_WRITE), "raw" + i,
                        FdStream.DEFAULT_READ_LIMIT, FdStream.DEFAULT_HIGH_WATER, FdStream.DEFAULT_LOW_WATER);
                MessageChannel ch = MessageChannel.over(s, s, codecs);
                assertEquals("c" + i + " accepted", ch.request("c" + i, String.class).get(10, TimeUnit.SECONDS));
                ch.close();
            }
            assertEquals(backoffs, server.acceptBackoffs());
            long warnings;
            synchronized (logged) { // AppenderBase.doAppend holds the appender's monitor; the list is a plain ArrayList
                warnings = logged.list.stream().filter(e -> e.getFormattedMessage().contains("accept4 failed: EMFILE")).count();
            }
            assertEquals(1, warnings, "the back-off is logged once per episode");
            server.close();
        } finally {
            for (int fd : hogs) {
                Native.closeQuietly(fd);
            }
            serverLog.detachAppender(logged);
        }
    }
}
