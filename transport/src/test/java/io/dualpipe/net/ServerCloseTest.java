package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.internal.LoopThread;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static io.dualpipe.net.TestSupport.eventually;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing a server while another thread closes its loop. */
class ServerCloseTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(20)
    void closeDuringTheLoopsShutdownWaitsForItAndCleansUpOffNoOtherThread() throws Exception {
        EventLoop loop = EventLoop.create("closing");
        CountDownLatch release = new CountDownLatch(1);
        try {
            Path sock = dir.resolve("s.sock");
            MessageServer server = MessageServer.builder(codecs()).loop(loop).bind(sock);
            CompletableFuture<Thread> closedOn = new CompletableFuture<>();
            server.closeFuture().whenComplete((v, e) -> closedOn.complete(Thread.currentThread()));

            // Hold the loop in a task, then start closing it: it refuses new tasks but has not yet told
            // its handlers, so the server's close cannot hand its work to the loop.
            CountDownLatch running = new CountDownLatch(1);
            loop.execute(() -> {
                running.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(running.await(10, TimeUnit.SECONDS));
            Thread loopCloser = new Thread(loop::close, "loop-closer");
            loopCloser.start();
            eventually(Duration.ofSeconds(10), "the loop is closing", loop::isClosed);

            CompletableFuture<Boolean> terminatedWhenCloseReturned = new CompletableFuture<>();
            Thread serverCloser = new Thread(() -> {
                server.close();
                terminatedWhenCloseReturned.complete(loop.terminationFuture().isDone());
            }, "server-closer");
            serverCloser.start();
            // Parked waiting for the loop, or (before the fix) done having closed the server itself.
            eventually(Duration.ofSeconds(10), "server.close() is waiting or done", () -> {
                Thread.State st = serverCloser.getState();
                return st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING || st == Thread.State.TERMINATED;
            });
            release.countDown();

            assertTrue(terminatedWhenCloseReturned.get(10, TimeUnit.SECONDS), "close() returned before the loop ended");
            Thread t = closedOn.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof LoopThread, "the server was closed on " + t + ", racing the loop's own shutdown");
            assertFalse(server.isOpen());
            assertFalse(Files.exists(sock));
            serverCloser.join(10_000);
            loopCloser.join(10_000);
        } finally {
            release.countDown(); // a failed assertion must not leave the loop thread parked for 20 s
            loop.close();
        }
    }
}
