package io.dualpipe.net;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.internal.LoopThread;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.dualpipe.TestLoops.drain;
import static io.dualpipe.net.TestSupport.codecs;
import static io.dualpipe.net.TestSupport.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A client's connect and queue when the loop closes, the caller cancels, or the client closes. */
class ClientLifecycleTest {
    @TempDir
    Path dir;
    private EventLoop serverLoop;
    private EventLoop clientLoop;

    @BeforeEach
    void start() {
        serverLoop = EventLoop.create("server");
        clientLoop = EventLoop.create("client");
    }

    @AfterEach
    void stop() {
        clientLoop.close();
        serverLoop.close();
    }

    private static Throwable failure(Future<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    /** Returns once every task queued on {@code loop} before this call has run. */

    private MessageServerBuilder server() {
        return MessageServer.builder(codecs()).loop(serverLoop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(ctx.channel().name()));
    }

    @Test
    @Timeout(20)
    void closingTheLoopBetweenRetriesFailsTheConnect() throws Exception {
        LoopFuture<MessageClient> f = MessageClient.builder(codecs()).loop(clientLoop)
                .retry(50, Duration.ofMillis(200)).connect(dir.resolve("missing.sock"));
        drain(clientLoop); // the first attempt was refused: only the retry timer stands for the connect now
        clientLoop.close();
        assertInstanceOf(LoopClosedException.class, failure(f));
    }

    @Test
    @Timeout(20)
    void aConnectStartedByAClosingLoopFailsInsteadOfHanging() throws Exception {
        CompletableFuture<LoopFuture<MessageClient>> started = new CompletableFuture<>();
        // Close hooks run after the loop stopped accepting timers, and after hooks added meanwhile
        // were called: this connect's first attempt runs in the loop's last drain, and its retry
        // cannot be scheduled.
        SingleThreadEventLoop.of(clientLoop).onClose(cause -> started.complete(MessageClient.builder(codecs())
                .loop(clientLoop).retry(50, Duration.ofMillis(200)).connect(dir.resolve("missing.sock"))));
        clientLoop.close();
        assertInstanceOf(LoopClosedException.class, failure(started.get(10, TimeUnit.SECONDS)));
    }

    @Test
    @Timeout(20)
    void cancellingARetryingConnectStopsTheRetries() throws Exception {
        Path sock = dir.resolve("late.sock");
        LoopFuture<MessageClient> f = MessageClient.builder(codecs()).loop(clientLoop)
                .retry(50, Duration.ofMillis(200)).connect(sock);
        drain(clientLoop); // attempt 1 was refused (no file); attempt 2 is due 200 ms from then
        assertTrue(f.cancel(false));
        drain(clientLoop); // whatever the cancel hands the loop has run before the server exists
        try (MessageServer s = server().bind(sock)) {
            // A timer set later on the same loop fires after the retry that was due, and that
            // retry's connect (Unix: done in the call) would then wait in the backlog before the probe's.
            LoopFuture<Void> passed = new LoopFuture<>();
            clientLoop.schedule(() -> passed.complete(null), 400, TimeUnit.MILLISECONDS);
            passed.get(10, TimeUnit.SECONDS);
            EventLoop probeLoop = EventLoop.create("probe");
            try {
                MessageClient probe = MessageClient.builder(codecs()).loop(probeLoop).connect(sock).get(10, TimeUnit.SECONDS);
                // The server accepts in order and names connections #1, #2...: the probe must be the first.
                assertEquals("unix:" + sock + "#1", probe.request("who", String.class).get(10, TimeUnit.SECONDS));
                probe.close();
            } finally {
                probeLoop.close();
            }
        }
    }

    @Test
    @Timeout(20)
    void aCancelledConnectThatSucceedsAnywayIsClosed() throws Exception {
        Path sock = dir.resolve("s.sock");
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        try (MessageServer s = server().onOpen(ch -> opened.incrementAndGet()).onClose((ch, e) -> closed.incrementAndGet())
                .bind(sock)) {
            // On the loop thread the connect's first attempt is queued before anything the cancel
            // hands the loop, so the connection is made after the caller gave up on it.
            CompletableFuture<LoopFuture<MessageClient>> connecting = new CompletableFuture<>();
            clientLoop.execute(() -> {
                LoopFuture<MessageClient> f = MessageClient.builder(codecs()).loop(clientLoop).connect(sock);
                f.cancel(false);
                connecting.complete(f);
            });
            assertTrue(connecting.get(10, TimeUnit.SECONDS).isCancelled());
            eventually(Duration.ofSeconds(10), "the server accepts the connection", () -> opened.get() == 1);
            eventually(Duration.ofSeconds(10), "the cancelled client hangs up", () -> closed.get() == 1);
            assertTrue(s.connections().isEmpty());
        }
    }

    @Test
    @Timeout(20)
    void closeFailsQueuedOperationsOnTheLoopThread() throws Exception {
        Path sock = dir.resolve("s.sock");
        MessageServer s = server().bind(sock);
        MessageClient c = MessageClient.builder(codecs()).loop(clientLoop).reconnect(true)
                .retry(50, Duration.ofMillis(200)).connect(sock).get(10, TimeUnit.SECONDS);
        s.close();
        eventually(Duration.ofSeconds(10), "the client sees the disconnect", () -> !c.isConnected());
        LoopFuture<Void> queued = c.send("waits for a reconnect that cannot happen");
        CompletableFuture<Thread> completedOn = new CompletableFuture<>();
        queued.whenComplete((v, e) -> completedOn.complete(Thread.currentThread()));
        c.close();
        // Waited for first: a thread blocked in queued.get() may itself run queued's pending callbacks.
        Thread t = completedOn.get(10, TimeUnit.SECONDS);
        Throwable cause = failure(queued);
        assertInstanceOf(ChannelClosedException.class, cause);
        assertTrue(t instanceof LoopThread && t.getName().equals("client"), "completed on " + t + " with " + cause);
    }

    @Test
    @Timeout(20)
    void closingTheLoopFailsQueuedOperationsAndLaterOnes() throws Exception {
        Path sock = dir.resolve("s.sock");
        MessageServer s = server().bind(sock);
        MessageClient c = MessageClient.builder(codecs()).loop(clientLoop).reconnect(true)
                .retry(50, Duration.ofMillis(200)).connect(sock).get(10, TimeUnit.SECONDS);
        s.close();
        eventually(Duration.ofSeconds(10), "the client sees the disconnect", () -> !c.isConnected());
        LoopFuture<Void> queued = c.send("waits for a reconnect");
        clientLoop.close();
        assertInstanceOf(LoopClosedException.class, failure(queued));
        // Nothing is left queued behind a connect that never ends: a later send fails at once.
        assertInstanceOf(LoopClosedException.class, failure(c.send("after the loop closed")));
        c.close();
    }
}
