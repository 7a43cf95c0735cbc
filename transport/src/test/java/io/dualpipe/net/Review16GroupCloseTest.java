package io.dualpipe.net;

import io.dualpipe.Leaks;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Review 16: a server and its clients spread over groups of 2 and 3 loops, requests going both ways,
 * connections closed from other threads while the server closes; every future must end typed.
 */
class Review16GroupCloseTest {
    private static final int CLIENTS = 12;

    @TempDir
    Path dir;

    @BeforeAll
    static void warmUp(@TempDir Path warmDir) throws Exception {
        try (EventLoop warm = EventLoop.create("r16g-warm")) {
            MessageServer s = MessageServer.builder(codecs()).loop(warm).bind(warmDir.resolve("warm.sock"));
            MessageClient.builder(codecs()).loop(warm).connect(warmDir.resolve("warm.sock")).get(10, TimeUnit.SECONDS).close();
            s.close();
        }
    }

    private static void assertEndsTyped(LoopFuture<?> f, String what) throws Exception {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof ChannelClosedException)) {
                throw new AssertionError(what + " failed with " + e.getCause(), e.getCause());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    @Timeout(90)
    void closeWhileRequestsFlyBothWaysAndOthersCloseConnections(int loops) throws Exception {
        Leaks.Baseline baseline = Leaks.baseline();
        EventLoopGroup serverLoops = EventLoopGroup.create(loops, "r16g-s" + loops);
        EventLoopGroup clientLoops = EventLoopGroup.create(loops, "r16g-c" + loops);
        ExecutorService closers = Executors.newFixedThreadPool(3);
        try {
            Path sock = dir.resolve("g" + loops + ".sock");
            Set<MessageChannel> opened = ConcurrentHashMap.newKeySet();
            AtomicInteger closedCount = new AtomicInteger();
            AtomicInteger closedTwice = new AtomicInteger();
            Set<MessageChannel> closedOnce = ConcurrentHashMap.newKeySet();
            CountDownLatch allOpen = new CountDownLatch(CLIENTS);
            MessageServer server = MessageServer.builder(codecs()).group(serverLoops)
                    // every other request is answered, the rest wait for good
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                        if (s.hashCode() % 2 == 0) {
                            ctx.reply(s.toUpperCase());
                        } else {
                            ctx.defer();
                        }
                    })
                    .onOpen(c -> {
                        opened.add(c);
                        allOpen.countDown();
                    })
                    .onClose((c, e) -> {
                        if (!closedOnce.add(c)) {
                            closedTwice.incrementAndGet();
                        }
                        closedCount.incrementAndGet();
                    })
                    .bind(sock);
            List<MessageClient> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(MessageClient.builder(codecs()).loop(clientLoops.next())
                        .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s + "!"))
                        .connect(sock).get(20, TimeUnit.SECONDS));
            }
            assertTrue(allOpen.await(20, TimeUnit.SECONDS));
            List<LoopFuture<?>> inFlight = new ArrayList<>();
            for (int round = 0; round < 20; round++) {
                for (MessageClient c : clients) {
                    inFlight.add(c.request("r" + round));
                }
                for (MessageChannel c : opened) {
                    inFlight.add(c.request("s" + round));
                }
            }
            // Other threads close a third of the connections, from both ends, while the server closes.
            List<Future<?>> closing = new ArrayList<>();
            List<MessageChannel> serverSide = new ArrayList<>(opened);
            for (int i = 0; i < CLIENTS; i += 3) {
                MessageClient c = clients.get(i);
                MessageChannel s = serverSide.get(i + 1);
                closing.add(closers.submit(c::close));
                closing.add(closers.submit(s::close));
            }
            server.close();
            assertTrue(server.closeFuture().isDone(), "close() returns once every connection has closed");
            for (Future<?> f : closing) {
                f.get(20, TimeUnit.SECONDS);
            }
            for (int i = 0; i < inFlight.size(); i++) {
                assertEndsTyped(inFlight.get(i), "request " + i);
            }
            assertEquals(CLIENTS, closedCount.get(), "every onOpen has one onClose");
            assertEquals(0, closedTwice.get());
            assertTrue(server.connections().isEmpty());
            assertFalse(Files.exists(sock));
            for (MessageClient c : clients) {
                LoopFuture<Object> after = c.request("after");
                try {
                    after.get(20, TimeUnit.SECONDS);
                    fail("a request after the server closed was answered");
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof ChannelClosedException, String.valueOf(e.getCause()));
                }
                c.close();
            }
        } finally {
            closers.shutdownNow();
            serverLoops.close();
            clientLoops.close();
        }
        Leaks.awaitNoFdsBeyond(baseline);
        Leaks.await(() -> "loop threads of r16g-*" + loops + " still alive", () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("r16g-") && t.getName().contains(String.valueOf(loops)) && t.isAlive()));
    }
}
