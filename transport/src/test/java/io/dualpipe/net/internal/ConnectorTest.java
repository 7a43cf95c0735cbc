package io.dualpipe.net.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.dualpipe.TestLoops.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Unix connect to a server whose backlog is full polls until the backlog frees. Once the
 * connect is cancelled, by {@link Connector#cancel()} or on its future, the polling must stop: a
 * later poll would connect to a server nobody wants and hang up on it.
 */
class ConnectorTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(20)
    void cancelStopsTheBacklogPoll() throws Exception {
        pollThenGiveUp(Connector::cancel);
    }

    @Test
    @Timeout(20)
    void cancellingTheResultStopsTheBacklogPoll() throws Exception {
        pollThenGiveUp(c -> assertTrue(c.result().cancel(false)));
    }

    private void pollThenGiveUp(Consumer<Connector> giveUp) throws Exception {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("full.sock"));
        int listener = Sockets.open(address);
        List<Integer> fillers = new ArrayList<>();
        try (EventLoop loop = EventLoop.create("connector")) {
            Sockets.bind(listener, address);
            Sockets.listen(listener, 0, address);
            while (true) {
                int fd = Sockets.open(address);
                fillers.add(fd);
                int errno = Sockets.connect(fd, address);
                if (errno == Sockets.EAGAIN) {
                    break; // the backlog is full
                }
                assertEquals(0, errno, Native.errnoName(errno));
                assertTrue(fillers.size() < 100, "the backlog never filled");
            }
            Connector c = Connector.start(loop, address, 1, Duration.ZERO, Duration.ofSeconds(30));
            drain(loop); // the first try found the backlog full: a poll is pending
            assertFalse(c.result().isDone());
            giveUp.accept(c);
            drain(loop);
            assertTrue(c.result().isCancelled());

            // Free the backlog, then let the loop pass the moment the next poll was due (5 ms on).
            int accepted;
            while ((accepted = Sockets.accept(listener)) >= 0) {
                Native.closeQuietly(accepted);
            }
            LoopFuture<Void> passed = new LoopFuture<>();
            loop.schedule(() -> passed.complete(null), 100, TimeUnit.MILLISECONDS);
            passed.get(10, TimeUnit.SECONDS);
            int late = Sockets.accept(listener);
            if (late >= 0) {
                Native.closeQuietly(late);
            }
            assertEquals(-Sockets.EAGAIN, late, "a cancelled connect kept polling and connected");
        } finally {
            fillers.forEach(Native::closeQuietly);
            Native.closeQuietly(listener);
        }
    }
}
