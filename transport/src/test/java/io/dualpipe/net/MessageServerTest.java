package io.dualpipe.net;

import io.dualpipe.Leaks;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.Peer;
import io.dualpipe.net.TestSupport.Order;
import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageServerTest {
    @TempDir
    Path dir;
    private EventLoop serverLoop;
    private EventLoop clientLoop;

    @BeforeEach
    void start() {
        serverLoop = EventLoop.create("server");
        clientLoop = EventLoop.create("clients");
    }

    @AfterEach
    void stop() {
        clientLoop.close();
        serverLoop.close();
    }

    private static <T> T await(java.util.concurrent.Future<T> f) throws Exception {
        return f.get(20, TimeUnit.SECONDS);
    }

    private static Throwable failure(java.util.concurrent.Future<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
        return e.getCause();
    }

    /** Adds 1 to json numbers, upper-cases text, echoes bytes, fills orders: enough to check every reply. */
    private MessageServerBuilder calculator() {
        return MessageServer.builder(codecs()).loop(serverLoop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s.toUpperCase()))
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(b))
                .handle(Codecs.JSON, Number.class, (ctx, n) -> ctx.reply(Codecs.JSON, n.longValue() + 1))
                .handle(TestSupport.ORDER, Order.class, (ctx, o) -> ctx.reply(new Order(o.item() + " (filled)", o.quantity())));
    }

    private MessageClientBuilder client() {
        return MessageClient.builder(codecs()).loop(clientLoop);
    }

    @Test
    @Timeout(60)
    void fiftyClientsUnderLoadAllGetTheirOwnReplies() throws Exception {
        Path sock = dir.resolve("load.sock");
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        MessageServer server = calculator()
                .onOpen(c -> opened.incrementAndGet())
                .onClose((c, e) -> {
                    assertNull(e);
                    closed.incrementAndGet();
                })
                .bind(sock);
        List<LoopFuture<MessageClient>> connecting = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            connecting.add(client().connect(sock));
        }
        List<MessageClient> clients = new ArrayList<>();
        for (LoopFuture<MessageClient> f : connecting) {
            clients.add(await(f));
        }
        // Every client fires 400 requests of mixed types at once, from several threads.
        List<CompletableFuture<Void>> checks = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            MessageClient client = clients.get(c);
            int id = c;
            checks.add(CompletableFuture.runAsync(() -> {
                List<CompletableFuture<Boolean>> replies = new ArrayList<>();
                for (int k = 0; k < 100; k++) {
                    int i = k;
                    String text = "c" + id + "-" + i;
                    long n = id * 1_000_000L + i;
                    byte[] bytes = text.getBytes();
                    replies.add(client.request(text, String.class).thenApply(r -> r.equals(text.toUpperCase())));
                    replies.add(client.request(Codecs.JSON, n, Number.class, null).thenApply(r -> r.longValue() == n + 1));
                    replies.add(client.request(bytes, byte[].class).thenApply(r -> java.util.Arrays.equals(r, bytes)));
                    replies.add(client.request(new Order(text, i), Order.class).thenApply(r -> r.equals(new Order(text + " (filled)", i))));
                }
                for (CompletableFuture<Boolean> r : replies) {
                    assertTrue(r.join(), "a reply did not match its request");
                }
            }));
        }
        for (CompletableFuture<Void> c : checks) {
            await(c);
        }
        assertEquals(50, opened.get());
        assertEquals(50, server.connections().size());
        for (MessageClient c : clients) {
            c.close();
        }
        TestSupport.eventually(Duration.ofSeconds(10), "server saw every client leave", () -> closed.get() == 50);
        server.close();
        assertFalse(Files.exists(sock));
    }

    @Test
    @Timeout(20)
    void socketFileIsPrivateByDefaultAndRemovedOnClose() throws Exception {
        Path sock = dir.resolve("mode.sock");
        MessageServer server = calculator().bind(sock);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
        assertEquals(java.net.UnixDomainSocketAddress.of(sock), server.localAddress());
        server.close();
        assertFalse(Files.exists(sock));
        MessageServer open = calculator().socketMode(0660).bind(sock);
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
        open.close();
    }

    @Test
    @Timeout(30)
    void restartReplacesAStaleSocketFileLeftByADeadServer() throws Exception {
        Path sock = dir.resolve("stale.sock");
        // A server that dies without cleaning up: python binds, listens and exits; the file stays.
        ChildProcess dead = ChildProcess.builder("python3", "-c",
                "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)", sock.toString())
                .loop(serverLoop).start();
        assertEquals(0, await(dead.onExit()).exitCode());
        assertTrue(Files.exists(sock));
        ConnectionRefusedException refused = (ConnectionRefusedException) failure(client().connect(sock));
        assertEquals("ECONNREFUSED", refused.errnoName());

        MessageServer server = calculator().bind(sock);
        MessageClient c = await(client().connect(sock));
        assertEquals("UP", await(c.request("up", String.class)));
        // A clean restart: stop() removes the file, and the next server binds without a probe.
        await(server.stop());
        assertFalse(Files.exists(sock));
        MessageServer again = calculator().bind(sock);
        assertEquals("AGAIN", await(await(client().connect(sock)).request("again", String.class)));
        again.close();
    }

    @Test
    @Timeout(20)
    void aLiveServersPathIsNeverTakenOver() throws Exception {
        Path sock = dir.resolve("live.sock");
        MessageServer first = calculator().bind(sock);
        AddressInUseException e = assertThrows(AddressInUseException.class, () -> calculator().bind(sock));
        assertEquals("unix:" + sock, e.address());
        assertTrue(e.getMessage().contains(sock.toString()) && e.getMessage().contains("live server"), e.getMessage());
        // the first server is untouched: same file, still serving
        assertEquals("STILL", await(await(client().connect(sock)).request("still", String.class)));
        first.close();

        Path plain = Files.writeString(dir.resolve("plain.txt"), "not a socket");
        AddressInUseException notSocket = assertThrows(AddressInUseException.class, () -> calculator().bind(plain));
        assertTrue(notSocket.getMessage().contains("not a socket"), notSocket.getMessage());
        assertEquals("not a socket", Files.readString(plain));
    }

    @Test
    @Timeout(20)
    void connectionsCarryPeerCredentialsAndEvents() throws Exception {
        Path sock = dir.resolve("creds.sock");
        LinkedBlockingQueue<MessageChannel> opened = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Object> closed = new LinkedBlockingQueue<>();
        MessageServer server = calculator()
                .handle(Codecs.JSON, Map.class, (ctx, m) -> {
                    Peer p = ctx.channel().peer();
                    ctx.reply(Map.of("pid", p.pid(), "uid", p.uid(), "gid", p.gid()));
                })
                .onOpen(opened::add)
                .onClose((c, e) -> closed.add(e == null ? c : e))
                .bind(sock);
        MessageClient c = await(client().connect(sock));
        MessageChannel conn = opened.poll(10, TimeUnit.SECONDS);
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        int gid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        assertEquals(new Peer((int) ProcessHandle.current().pid(), uid, gid, conn.name()), conn.peer());
        Map<?, ?> seen = (Map<?, ?>) await(c.request(Map.of("who", "am I")));
        assertEquals(Map.of("pid", (int) ProcessHandle.current().pid(), "uid", uid, "gid", gid), seen);
        // the client knows the server the same way
        assertEquals(uid, c.channel().peer().uid());
        c.close();
        assertEquals(conn, closed.poll(10, TimeUnit.SECONDS));
        server.close();
    }

    @Test
    @Timeout(20)
    void serverPushesAndAsksClientsToo() throws Exception {
        Path sock = dir.resolve("push.sock");
        LinkedBlockingQueue<MessageChannel> opened = new LinkedBlockingQueue<>();
        MessageServer server = calculator().onOpen(opened::add).bind(sock);
        LinkedBlockingQueue<String> pushed = new LinkedBlockingQueue<>();
        MessageClient c = await(client()
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    if (ctx.isRequest()) {
                        ctx.reply("client says " + s);
                    } else {
                        pushed.add(s);
                    }
                })
                .connect(sock));
        MessageChannel conn = opened.poll(10, TimeUnit.SECONDS);
        await(conn.send("news"));
        assertEquals("news", pushed.poll(10, TimeUnit.SECONDS));
        assertEquals("client says hi", await(conn.request("hi", String.class)));
        server.close();
    }

    @Test
    @Timeout(20)
    void closingTheServerFailsClientsPendingRequests() throws Exception {
        Path sock = dir.resolve("close.sock");
        CompletableFuture<Void> parked = new CompletableFuture<>();
        MessageServer server = MessageServer.builder(codecs()).loop(serverLoop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                    ctx.defer();
                    parked.complete(null);
                })
                .bind(sock);
        MessageClient c = await(client().connect(sock));
        LoopFuture<Object> pending = c.request("never answered");
        await(parked);
        server.close();
        Throwable e = failure(pending);
        assertInstanceOf(ChannelClosedException.class, e);
        assertInstanceOf(ChannelClosedException.class, failure(c.send("after")));
        assertFalse(c.isConnected());
        assertInstanceOf(ChannelClosedException.class, assertThrows(ChannelClosedException.class, c::channel));
    }

    @Test
    @Timeout(20)
    void gracefulStopLetsQueuedRepliesOut() throws Exception {
        Path sock = dir.resolve("graceful.sock");
        byte[] big = new byte[4 * 1024 * 1024];
        new java.util.Random(5).nextBytes(big);
        MessageServer server = calculator().bind(sock);
        MessageClient c = await(client().connect(sock));
        // a 4 MiB reply is still being written when stop() begins; it must arrive whole
        LoopFuture<byte[]> reply = c.request(big, byte[].class);
        CompletableFuture<LoopFuture<Void>> stopping = new CompletableFuture<>();
        TestSupport.eventually(Duration.ofSeconds(10), "the server took the request", () -> server.connections().size() == 1
                && server.connections().get(0).queuedBytes() > 0 || reply.isDone());
        stopping.complete(server.stop());
        assertTrue(java.util.Arrays.equals(big, await(reply)));
        await(await(stopping));
        assertFalse(server.isOpen());
        assertFalse(Files.exists(sock));
    }

    @Test
    @Timeout(20)
    void clientErrorsNameTheAddressAndTheReason() throws Exception {
        Path missing = dir.resolve("nobody-here.sock");
        ConnectionRefusedException e = (ConnectionRefusedException) failure(client().retry(3, Duration.ofMillis(5)).connect(missing));
        assertEquals("ENOENT", e.errnoName());
        assertEquals("unix:" + missing, e.address());
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("3 attempts"), e.getMessage());

        // TCP: a port bound but not listening refuses connections, and no other process can take it
        // meanwhile (a port closed before the connect could be reused by anyone on the machine)
        try (java.net.Socket holder = new java.net.Socket()) {
            holder.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = holder.getLocalPort();
            ConnectionRefusedException tcp = (ConnectionRefusedException) failure(client().connectTcp(port));
            assertEquals("ECONNREFUSED", tcp.errnoName());
            assertTrue(tcp.getMessage().contains("127.0.0.1:" + port), tcp.getMessage());
        }
    }

    @Test
    @Timeout(20)
    void clientRetriesUntilTheServerIsUp() throws Exception {
        Path sock = dir.resolve("late.sock");
        CompletableFuture<MessageServer> started = new CompletableFuture<>();
        // The server appears 150 ms after the client started trying. It is bound from the clients'
        // loop thread while it runs on the server's loop: bind must not block on the other loop.
        clientLoop.schedule(() -> {
            try {
                started.complete(calculator().bind(sock));
            } catch (RuntimeException e) {
                started.completeExceptionally(e);
            }
        }, 150, TimeUnit.MILLISECONDS);
        MessageClient c = await(client().retry(100, Duration.ofMillis(20)).connect(sock));
        assertTrue(started.isDone());
        assertEquals("LATE", await(c.request("late", String.class)));
        await(started).close();
    }

    @Test
    @Timeout(20)
    void reconnectPolicyFailsPendingRequestsThenReconnectsOnTheNextSend() throws Exception {
        Path sock = dir.resolve("reconnect.sock");
        CompletableFuture<Void> parked = new CompletableFuture<>();
        LinkedBlockingQueue<MessageChannel> opened = new LinkedBlockingQueue<>();
        MessageServer server = calculator()
                .handle(Codecs.JSON, Map.class, (ctx, m) -> {
                    ctx.defer();
                    parked.complete(null);
                })
                .onOpen(opened::add)
                .bind(sock);
        MessageClient c = await(client().reconnect(true).retry(20, Duration.ofMillis(20)).connect(sock));
        LoopFuture<Object> pending = c.request(Map.of("park", true));
        await(parked);
        opened.poll(10, TimeUnit.SECONDS).close(); // the server drops this client
        assertInstanceOf(ChannelClosedException.class, failure(pending));
        TestSupport.eventually(Duration.ofSeconds(10), "client noticed", () -> !c.isConnected());
        // the next requests reconnect, and go out in order
        List<LoopFuture<String>> after = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            after.add(c.request("again" + i, String.class));
        }
        for (int i = 0; i < 20; i++) {
            assertEquals("AGAIN" + i, await(after.get(i)));
        }
        assertTrue(c.isConnected());
        assertTrue(opened.poll(10, TimeUnit.SECONDS) != null);
        // without the server, reconnecting fails with the connect error
        server.close();
        TestSupport.eventually(Duration.ofSeconds(10), "client noticed", () -> !c.isConnected());
        assertInstanceOf(ConnectionRefusedException.class, failure(c.request("gone")));
        c.close();
        assertInstanceOf(ChannelClosedException.class, failure(c.request("closed")));
    }

    @Test
    @Timeout(30)
    void tcpRequestReplyOnAnEphemeralLoopbackPort() throws Exception {
        MessageServer server = calculator().bindTcp(0);
        InetSocketAddress bound = (InetSocketAddress) server.localAddress();
        assertTrue(bound.getAddress().isLoopbackAddress());
        assertTrue(bound.getPort() > 0);
        List<MessageClient> clients = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            clients.add(await(client().connectTcp(bound.getPort())));
        }
        List<CompletableFuture<Boolean>> replies = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            MessageClient c = clients.get(i % clients.size());
            String text = "tcp" + i;
            replies.add(c.request(text, String.class).thenApply(r -> r.equals(text.toUpperCase())));
            long n = i;
            replies.add(c.request(Codecs.JSON, n, Number.class, null).thenApply(r -> r.longValue() == n + 1));
        }
        for (CompletableFuture<Boolean> r : replies) {
            assertTrue(await(r));
        }
        MessageChannel conn = server.connections().get(0);
        assertEquals(-1, conn.peer().uid());
        assertTrue(conn.peer().address().startsWith("tcp:127.0.0.1:"), conn.peer().address());
        assertTrue(server.connections().size() == 10);
        for (MessageClient c : clients) {
            c.close();
        }
        server.close();
    }

    @Test
    @Timeout(60)
    void fdsAndThreadsReturnToBaselineAfterServerAndClientsClose() throws Exception {
        // Warm up class loading, jnr stubs and logging so the baseline is not measured before them.
        try (EventLoop warm = EventLoop.create("warm")) {
            MessageServer s = MessageServer.builder(codecs()).loop(warm).bind(dir.resolve("warm.sock"));
            MessageClient.builder(codecs()).loop(warm).connect(dir.resolve("warm.sock")).get(10, TimeUnit.SECONDS).close();
            s.close();
        }
        Leaks.Baseline baseline = Leaks.baseline();
        EventLoop loop = EventLoop.create("fd-check");
        Path sock = dir.resolve("fds.sock");
        MessageServer unix = MessageServer.builder(codecs()).loop(loop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s)).bind(sock);
        MessageServer tcp = MessageServer.builder(codecs()).loop(loop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s)).bindTcp(0);
        int port = ((InetSocketAddress) tcp.localAddress()).getPort();
        List<MessageClient> clients = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            MessageClient c = await(i % 2 == 0 ? MessageClient.builder(codecs()).loop(loop).connect(sock)
                    : MessageClient.builder(codecs()).loop(loop).connectTcp(port));
            assertEquals("x" + i, await(c.request("x" + i, String.class)));
            clients.add(c);
        }
        assertTrue(Leaks.fds().size() >= baseline.fds().size() + 40, "20 client and 20 server sockets are open");
        for (int i = 0; i < clients.size(); i += 2) {
            clients.get(i).close(); // half close themselves, the rest are closed by the servers
        }
        unix.close();
        tcp.close();
        loop.close();
        Leaks.awaitNoFdsBeyond(baseline);
        await(loop.terminationFuture());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("fd-check") && t.isAlive()),
                "the loop thread is gone");
    }
}
