package io.dualpipe.net;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.nio.channels.SocketChannel;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A server kept for weeks whose onOpen, onClose or onReject throws on every connection logs within
 * each callback class's budget (CallbackFailureLog), not one stack trace per connection; it goes on
 * serving and answering right; and a different callback class's first failure still reaches WARN.
 */
class ServerCallbackFloodTest {
    private static final int FLOOD = 10_000;
    private static final int WINDOW = 500;
    private static final String CONNECTIONS_LOGGER = "io.dualpipe.net.internal.ServerConnections";
    private static final String SERVER_LOGGER = "io.dualpipe.net.internal.DefaultMessageServer";

    @TempDir
    Path dir;

    private static final class BuggyOnOpen implements Consumer<MessageChannel> {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void accept(MessageChannel channel) {
            calls.incrementAndGet();
            throw new IllegalStateException("onOpen bug");
        }
    }

    private static final class BuggyOnClose implements BiConsumer<MessageChannel, Throwable> {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void accept(MessageChannel channel, Throwable cause) {
            calls.incrementAndGet();
            throw new IllegalStateException("onClose bug");
        }
    }

    private static final class BuggyOnReject implements Consumer<Peer> {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public void accept(Peer peer) {
            calls.incrementAndGet();
            throw new IllegalStateException("onReject bug");
        }
    }

    /** Connects and closes at once: all a server sees is a connection that opens and ends. */
    private static void knock(Path sock) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(sock));
        }
    }

    /** Knocks {@code FLOOD} times, a window at a time, each window waiting until {@code done} has caught up. */
    private static void flood(Path sock, AtomicInteger done) throws Exception {
        for (int i = 0; i < FLOOD; i++) {
            knock(sock);
            if ((i + 1) % WINDOW == 0) {
                int n = i + 1;
                TestSupport.eventually(Duration.ofSeconds(30), n + " connections done", () -> done.get() >= n);
            }
        }
    }

    @Test
    @Timeout(180)
    void onOpenAndOnCloseThatAlwaysThrowStayWithinTheirBudgetAndTheServerGoesOn() throws Exception {
        Leaks.Baseline before;
        Path sock = dir.resolve("flood.sock");
        Path otherSock = dir.resolve("other.sock");
        try (EventLoop loop = EventLoop.create("flood-server");
             DebugLogCapture log = new DebugLogCapture(CONNECTIONS_LOGGER)) {
            before = Leaks.baseline(); // after the loop: the first loop of a fork opens a socket of the JVM's own
            BuggyOnOpen onOpen = new BuggyOnOpen();
            BuggyOnClose onClose = new BuggyOnClose();
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                    .onOpen(onOpen).onClose(onClose).bind(sock);
            flood(sock, onClose.calls);
            try (MessageClient client = MessageClient.builder(codecs()).loop(loop).connect(sock).get(10, TimeUnit.SECONDS)) {
                assertEquals("still fine", client.request("still fine", String.class).get(10, TimeUnit.SECONDS));
            }
            TestSupport.eventually(Duration.ofSeconds(10), "the client's close told", () -> onClose.calls.get() == FLOOD + 1);
            assertEquals(FLOOD + 1, onOpen.calls.get());

            MessageServer other = MessageServer.builder(codecs()).loop(loop).onOpen(new Consumer<>() {
                @Override
                public void accept(MessageChannel channel) {
                    throw new IllegalStateException("other onOpen bug");
                }
            }).bind(otherSock);
            knock(otherSock);
            log.assertFirstWarned(m -> m.contains("other.sock") && m.contains("onOpen callback threw"));
            server.close();
            other.close();
            log.assertCallbackFailuresBounded(m -> m.contains("flood.sock") && m.contains("onOpen callback threw"), FLOOD + 1);
            log.assertCallbackFailuresBounded(m -> m.contains("flood.sock") && m.contains("onClose callback threw"), FLOOD + 1);
        }
        Leaks.awaitNoFdsBeyond(before);
    }

    @Test
    @Timeout(180)
    void anOnRejectThatAlwaysThrowsStaysWithinItsBudgetAndTheServerGoesOn() throws Exception {
        Leaks.Baseline before;
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        int notUs = uid == 65534 ? 65533 : 65534;
        Path sock = dir.resolve("reject.sock");
        Path otherSock = dir.resolve("admitting.sock");
        try (EventLoop loop = EventLoop.create("flood-rejects");
             DebugLogCapture log = new DebugLogCapture(SERVER_LOGGER)) {
            before = Leaks.baseline(); // after the loop: the first loop of a fork opens a socket of the JVM's own
            BuggyOnReject onReject = new BuggyOnReject();
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                    .allowUids(notUs).onReject(onReject).bind(sock);
            flood(sock, onReject.calls);
            assertEquals(FLOOD, onReject.calls.get());

            // the server goes on deciding right: with us allowed, a sibling on the same loop answers
            MessageServer admitting = MessageServer.builder(codecs()).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                    .allowUids(uid).bind(otherSock);
            try (MessageClient client = MessageClient.builder(codecs()).loop(loop).connect(otherSock).get(10, TimeUnit.SECONDS)) {
                assertEquals("still fine", client.request("still fine", String.class).get(10, TimeUnit.SECONDS));
            }
            MessageServer otherRejecting = MessageServer.builder(codecs()).loop(loop).allowUids(notUs).onReject(new Consumer<>() {
                @Override
                public void accept(Peer peer) {
                    throw new IllegalStateException("other onReject bug");
                }
            }).bind(dir.resolve("third.sock"));
            knock(dir.resolve("third.sock"));
            log.assertFirstWarned(m -> m.contains("third.sock") && m.contains("onReject callback threw"));
            server.close();
            admitting.close();
            otherRejecting.close();
            log.assertCallbackFailuresBounded(m -> m.contains("reject.sock") && m.contains("onReject callback threw"), FLOOD);
        }
        Leaks.awaitNoFdsBeyond(before);
    }
}
