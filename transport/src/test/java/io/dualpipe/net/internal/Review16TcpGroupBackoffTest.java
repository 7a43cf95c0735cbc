package io.dualpipe.net.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.net.MessageServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 16: EMFILE on a TCP server whose connections go to a group of 2 loops, in two episodes:
 * accepting pauses (no spin), each episode is logged once, and the waiting clients are served on
 * the group's loops afterwards.
 */
class Review16TcpGroupBackoffTest {
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final long BACKOFF_MS = 40;

    @Test
    @Timeout(90)
    void twoEmfileEpisodesEachPauseLogOnceAndRecover() throws Exception {
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        Set<String> threads = ConcurrentHashMap.newKeySet();
        AtomicInteger opened = new AtomicInteger();
        ch.qos.logback.classic.Logger serverLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(DefaultMessageServer.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged = new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        serverLog.addAppender(logged);
        ch.qos.logback.classic.Level level = serverLog.getLevel();
        serverLog.setLevel(ch.qos.logback.classic.Level.INFO); // the recovery line is INFO
        List<Integer> hogs = new ArrayList<>();
        try (EventLoop accept = EventLoop.create("r16-emfile-accept");
             EventLoopGroup group = EventLoopGroup.create(2, "r16-emfile")) {
            DefaultMessageServer server = (DefaultMessageServer) MessageServer.builder(codecs).loop(accept).group(group)
                    .acceptBackoff(Duration.ofMillis(BACKOFF_MS))
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                        threads.add(Thread.currentThread().getName());
                        ctx.reply(s + " accepted");
                    })
                    .onOpen(c -> opened.incrementAndGet())
                    .bindTcp(0);
            InetSocketAddress address = (InetSocketAddress) server.localAddress();
            List<MessageChannel> channels = new ArrayList<>();
            for (int episode = 0; episode < 2; episode++) {
                int[] clients = new int[2];
                for (int i = 0; i < clients.length; i++) {
                    clients[i] = Sockets.open(address);
                }
                long backoffsBefore = server.acceptBackoffs();
                int openedBefore = opened.get();
                try {
                    while (true) {
                        int fd = Native.LIBC.fcntl(clients[0], F_DUPFD_CLOEXEC, 0);
                        if (fd < 0) {
                            assertEquals("EMFILE", Native.errnoName(Native.errno()));
                            break;
                        }
                        hogs.add(fd);
                    }
                    long start = System.nanoTime();
                    for (int fd : clients) {
                        int errno = Sockets.connect(fd, address);
                        assertTrue(errno == 0 || errno == Sockets.EINPROGRESS, "connect: " + Native.errnoName(errno));
                    }
                    while (server.acceptBackoffs() < backoffsBefore + 4) {
                        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "no EMFILE back-off seen");
                        LockSupport.parkNanos(1_000_000);
                    }
                    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    assertTrue(elapsedMs >= 3 * BACKOFF_MS, "4 failed accepts in " + elapsedMs + " ms: accepting was not paused");
                    assertEquals(openedBefore, opened.get());
                } finally {
                    for (int fd : hogs) {
                        Native.closeQuietly(fd);
                    }
                    hogs.clear();
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (opened.get() < openedBefore + clients.length) {
                    assertTrue(System.nanoTime() < deadline, "waiting clients were not accepted after recovery");
                    LockSupport.parkNanos(1_000_000);
                }
                for (int i = 0; i < clients.length; i++) {
                    FdStream s = FdStream.duplex(accept, new FdChannel(clients[i], SelectionKey.OP_READ | SelectionKey.OP_WRITE),
                            "raw" + episode + i, FdStream.DEFAULT_READ_LIMIT, FdStream.DEFAULT_HIGH_WATER, FdStream.DEFAULT_LOW_WATER);
                    MessageChannel ch = MessageChannel.over(s, s, codecs);
                    assertEquals("e" + episode + i + " accepted", ch.request("e" + episode + i, String.class).get(10, TimeUnit.SECONDS));
                    channels.add(ch);
                }
            }
            long warnings;
            long recoveries;
            synchronized (logged) {
                warnings = logged.list.stream().filter(e -> e.getFormattedMessage().contains("accept4 failed: EMFILE")).count();
                recoveries = logged.list.stream().filter(e -> e.getFormattedMessage().contains("accepting again after")).count();
            }
            assertEquals(2, warnings, "one warning per episode");
            assertEquals(2, recoveries, "one recovery line per episode");
            assertTrue(threads.stream().allMatch(t -> t.startsWith("r16-emfile-") && !t.startsWith("r16-emfile-accept")), threads.toString());
            for (MessageChannel ch : channels) {
                ch.close();
            }
            server.close();
        } finally {
            for (int fd : hogs) {
                Native.closeQuietly(fd);
            }
            serverLog.detachAppender(logged);
            serverLog.setLevel(level);
        }
    }
}
