package io.dualpipe.net;

import io.dualpipe.Leaks;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A MessageServer spreading its connections over an EventLoopGroup. */
class ServerGroupTest {
    @TempDir
    Path dir;
    private Leaks.Baseline baseline;
    private EventLoopGroup group;
    private EventLoop clientLoop;

    @BeforeAll
    static void warmUp(@TempDir Path warmDir) throws Exception {
        // The JDK keeps one socket for good once NIO is first used (its pre-close fd); jnr stubs and
        // logging load once too: the baselines come after them.
        try (EventLoop warm = EventLoop.create("warm")) {
            MessageServer s = MessageServer.builder(codecs()).loop(warm).bind(warmDir.resolve("warm.sock"));
            MessageClient.builder(codecs()).loop(warm).connect(warmDir.resolve("warm.sock")).get(10, TimeUnit.SECONDS).close();
            s.close();
        }
    }

    @BeforeEach
    void start() {
        baseline = Leaks.baseline();
        group = EventLoopGroup.create(2, "sgt");
        clientLoop = EventLoop.create("sgt-clients");
    }

    @AfterEach
    void stop() {
        clientLoop.close();
        group.close();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.isAlive() && t.getName().startsWith("sgt"), "thread left running: " + t);
        }
        Leaks.awaitNoFdsBeyond(baseline);
    }

    private static String thread() {
        return Thread.currentThread().getName();
    }

    private MessageClient connect(Path sock) throws Exception {
        return MessageClient.builder(codecs()).loop(clientLoop).connect(sock).get(20, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(60)
    void connectionsSpreadOverTheGroupAndEachKeepsToOneThread() throws Exception {
        // connection name -> every thread its callbacks ran on, in order
        Map<String, List<String>> seen = new ConcurrentHashMap<>();
        Map<String, Boolean> onOwnLoop = new ConcurrentHashMap<>();
        Path sock = dir.resolve("g.sock");
        MessageServer server = MessageServer.builder(codecs()).group(group)
                .onOpen(c -> {
                    seen.computeIfAbsent(c.name(), k -> new CopyOnWriteArrayList<>()).add("open@" + thread());
                    onOwnLoop.merge(c.name(), c.loop().inEventLoop(), Boolean::logicalAnd);
                })
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    seen.get(ctx.channel().name()).add("handle@" + thread());
                    onOwnLoop.merge(ctx.channel().name(), ctx.channel().loop().inEventLoop(), Boolean::logicalAnd);
                    ctx.reply(thread());
                })
                .onClose((c, e) -> {
                    seen.get(c.name()).add("close@" + thread());
                    onOwnLoop.merge(c.name(), c.loop().inEventLoop(), Boolean::logicalAnd);
                })
                .bind(sock);
        assertTrue(group.loops().contains(server.loop()), "the listening socket is on a loop of the group");
        List<MessageClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(connect(sock));
        }
        Set<String> serving = ConcurrentHashMap.newKeySet();
        for (MessageClient c : clients) {
            String first = c.request("hi", String.class).get(20, TimeUnit.SECONDS);
            for (int i = 0; i < 20; i++) {
                assertEquals(first, c.request("again " + i, String.class).get(20, TimeUnit.SECONDS));
            }
            serving.add(first);
        }
        assertEquals(Set.of("sgt-0", "sgt-1"), serving, "4 connections round-robin over 2 loops");
        assertEquals(4, server.connections().size());

        server.close(); // waits for the connections on both loops
        assertTrue(server.closeFuture().isDone());
        assertTrue(server.connections().isEmpty());
        assertFalse(Files.exists(sock));
        assertEquals(4, seen.size());
        for (Map.Entry<String, List<String>> e : seen.entrySet()) {
            List<String> calls = e.getValue();
            assertTrue(calls.get(0).startsWith("open@") && calls.get(calls.size() - 1).startsWith("close@"), e.toString());
            assertEquals(23, calls.size(), e.toString()); // open, 21 requests, close
            String t = calls.get(0).substring("open@".length());
            assertTrue(calls.stream().allMatch(c -> c.endsWith("@" + t)), "one thread per connection: " + e);
            assertTrue(onOwnLoop.get(e.getKey()), "called back off its own loop: " + e);
        }
        for (MessageClient c : clients) {
            c.close();
        }
    }

    @Test
    @Timeout(60)
    void stopClosesTheConnectionsOnEveryLoopGracefully() throws Exception {
        AtomicInteger closed = new AtomicInteger();
        Path sock = dir.resolve("s.sock");
        MessageServer server = MessageServer.builder(codecs()).group(group)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                .onClose((c, e) -> {
                    if (e == null) {
                        closed.incrementAndGet();
                    }
                })
                .bind(sock);
        List<MessageClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            MessageClient c = connect(sock);
            assertEquals("x" + i, c.request("x" + i, String.class).get(20, TimeUnit.SECONDS));
            clients.add(c);
        }
        server.stop().get(20, TimeUnit.SECONDS);
        assertEquals(4, closed.get());
        assertTrue(server.connections().isEmpty());
        for (MessageClient c : clients) {
            c.close();
        }
    }

    @Test
    @Timeout(60)
    void closingWhileConnectionsAreOnTheirWayLeavesNoneBehind() throws Exception {
        // Connections accepted just before the close are still on their way to their loop; the close
        // must neither miss them nor end before they have closed, and every onOpen gets its onClose.
        EventLoop acceptLoop = EventLoop.create("sgt-accept");
        try {
            for (int round = 0; round < 10; round++) {
                AtomicInteger opened = new AtomicInteger();
                AtomicInteger closed = new AtomicInteger();
                Path sock = dir.resolve("r" + round + ".sock");
                MessageServer server = MessageServer.builder(codecs()).loop(acceptLoop).group(group)
                        .onOpen(c -> opened.incrementAndGet())
                        .onClose((c, e) -> {
                            // A callback that takes a moment: close() must not return before it has run.
                            long until = System.nanoTime() + 2_000_000;
                            while (System.nanoTime() < until) {
                                Thread.onSpinWait();
                            }
                            closed.incrementAndGet();
                        })
                        .bind(sock);
                List<io.dualpipe.core.LoopFuture<MessageClient>> connecting = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    connecting.add(MessageClient.builder(codecs()).loop(clientLoop).connect(sock));
                }
                // Wait until the kernel has taken every connect, so the server's close races their set-up.
                for (io.dualpipe.core.LoopFuture<MessageClient> f : connecting) {
                    f.handle((c, e) -> c).get(20, TimeUnit.SECONDS);
                }
                server.close();
                assertTrue(server.closeFuture().isDone(), "round " + round);
                assertEquals(opened.get(), closed.get(), "round " + round + ": every onOpen has its onClose");
                assertTrue(server.connections().isEmpty(), "round " + round);
                for (io.dualpipe.core.LoopFuture<MessageClient> f : connecting) {
                    MessageClient c = f.handle((x, e) -> x).get(20, TimeUnit.SECONDS);
                    if (c != null) {
                        c.close();
                    }
                }
            }
        } finally {
            acceptLoop.close();
        }
    }

    @Test
    @Timeout(30)
    void bindingOnAClosedGroupFailsTypedAndOpensNothing() throws Exception {
        Leaks.Baseline here = Leaks.baseline();
        EventLoopGroup closed = EventLoopGroup.create(2, "sgt-closed");
        closed.close();
        Path sock = dir.resolve("c.sock");
        LoopClosedException e = assertThrows(LoopClosedException.class,
                () -> MessageServer.builder(codecs()).group(closed).bind(sock));
        assertEquals("event loop group 'sgt-closed' is closed", e.getMessage());
        assertFalse(Files.exists(sock));
        Leaks.assertNoFdsBeyond(here);
    }

    @Test
    @Timeout(30)
    void aConnectionForAClosedGroupIsClosedAndTheServerGoesOn() throws Exception {
        EventLoop acceptLoop = EventLoop.create("sgt-accept");
        EventLoopGroup doomed = EventLoopGroup.create(2, "sgt-doomed");
        try {
            Path sock = dir.resolve("d.sock");
            MessageServer server = MessageServer.builder(codecs()).loop(acceptLoop).group(doomed)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                    .bind(sock);
            MessageClient before = connect(sock);
            assertEquals("a", before.request("a", String.class).get(20, TimeUnit.SECONDS));
            doomed.close();
            ExecutionException broken = assertThrows(ExecutionException.class,
                    () -> before.request("b", String.class).get(20, TimeUnit.SECONDS));
            assertInstanceOf(ChannelClosedException.class, broken.getCause());

            MessageClient after = MessageClient.builder(codecs()).loop(clientLoop).connect(sock).get(20, TimeUnit.SECONDS);
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> after.request("c", String.class).get(20, TimeUnit.SECONDS));
            assertInstanceOf(ChannelClosedException.class, refused.getCause());
            assertTrue(server.isOpen(), "the listening socket lives on its own loop");
            server.close();
            assertTrue(server.closeFuture().isDone());
            before.close();
            after.close();
        } finally {
            doomed.close();
            acceptLoop.close();
        }
    }

    @Test
    void groupIsRequired() {
        assertEquals("group is null", assertThrows(io.dualpipe.core.InvalidArgumentException.class,
                () -> MessageServer.builder(codecs()).group(null)).getMessage());
    }
}
