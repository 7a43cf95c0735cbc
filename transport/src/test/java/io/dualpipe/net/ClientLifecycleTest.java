package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
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

import static io.dualpipe.net.TestSupport.codecs;
import static io.dualpipe.net.TestSupport.eventually;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A client's connect and queue when the loop closes. */
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
    private static void drain(EventLoop loop) throws Exception {
        LoopFuture<Void> done = new LoopFuture<>();
        loop.execute(() -> done.complete(null));
        done.get(10, TimeUnit.SECONDS);
    }

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
