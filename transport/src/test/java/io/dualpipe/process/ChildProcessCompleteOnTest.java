package io.dualpipe.process;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ChildProcessBuilder#completeOn}: the futures a child hands out complete on the given
 * executor, so stages chained on them run there and not on the loop thread; and what the running
 * system does (the child gone, its stdout ended, the loop closed) arrives through the future.
 */
class ChildProcessCompleteOnTest {
    private static final String COMPLETER = "completer";
    private ExecutorService executor;

    @BeforeEach
    void executor() {
        executor = Executors.newSingleThreadExecutor(r -> new Thread(r, COMPLETER));
    }

    @AfterEach
    void shutDown() throws Exception {
        executor.shutdown();
        assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS));
    }

    /**
     * Keeps the executor's one thread busy until the latch is released: a future handed out
     * meanwhile cannot complete before the test has attached its stage.
     */
    private CountDownLatch hold() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch held = new CountDownLatch(1);
        executor.execute(() -> {
            held.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(held.await(30, TimeUnit.SECONDS));
        return release;
    }

    /** Where a stage attached before completion runs. */
    private static CompletableFuture<String> threadOf(CompletableFuture<?> f) {
        CompletableFuture<String> where = new CompletableFuture<>();
        f.whenComplete((v, e) -> { }).thenRun(() -> where.complete(Thread.currentThread().getName()))
                .exceptionally(e -> {
                    where.complete(Thread.currentThread().getName());
                    return null;
                });
        return where;
    }

    @Test
    @Timeout(30)
    void onExitAndAReadCompleteOnTheExecutor() throws Exception {
        try (EventLoop loop = EventLoop.create("complete-on");
             ChildProcess child = ChildProcess.builder("sh", "-c", "read x; echo \"got $x\"; read y; exit 3")
                     .loop(loop).completeOn(executor).start()) {
            LoopFuture<ExitStatus> exit = child.onExit();
            CompletableFuture<String> exitThread = new CompletableFuture<>();
            exit.thenRun(() -> exitThread.complete(Thread.currentThread().getName()));
            LoopFuture<String> line = child.readLine(); // attached before the child writes it
            CompletableFuture<String> readThread = new CompletableFuture<>();
            line.thenRun(() -> readThread.complete(Thread.currentThread().getName()));
            CountDownLatch held = hold();
            CompletableFuture<String> writeThread = threadOf(child.writeLine("a"));
            held.countDown();
            assertEquals(COMPLETER, get(writeThread), "even a write the kernel took at once");
            // the stage's thread first: a thread waiting in get() on the same future may run its stages
            assertEquals(COMPLETER, get(readThread), "a read's stage runs on the executor");
            assertEquals("got a", get(line));
            LoopFuture<String> end = child.readLine();
            CompletableFuture<String> endThread = threadOf(end);
            child.writeLine("b");
            assertEquals(COMPLETER, get(endThread));
            assertNull(get(end), "end of stdout");
            assertEquals(COMPLETER, get(exitThread), "onExit's stage runs on the executor");
            assertEquals(ExitStatus.ofExitCode(3), get(exit));
            held = hold();
            CompletableFuture<String> drainedThread = threadOf(child.onDrained());
            held.countDown();
            assertEquals(COMPLETER, get(drainedThread));
        }
    }

    @Test
    @Timeout(30)
    void aRequestCompletesOnTheExecutorAndAChildThatDiesFailsItThere() throws Exception {
        try (EventLoop loop = EventLoop.create("complete-on-request");
             ChildProcess cat = ChildProcess.builder("cat").loop(loop).completeOn(executor).start();
             ChildProcess dies = ChildProcess.builder("sh", "-c", "read x; echo gone >&2; exit 4")
                     .loop(loop).completeOn(executor).start()) {
            CountDownLatch held = hold();
            LoopFuture<String> reply = cat.request("ping");
            CompletableFuture<String> replyThread = threadOf(reply);
            LoopFuture<String> lost = dies.request("hello");
            CompletableFuture<String> lostThread = threadOf(lost);
            held.countDown();
            assertEquals(COMPLETER, get(replyThread));
            assertEquals("ping", get(reply));
            assertEquals(COMPLETER, get(lostThread));
            ChildExitedException e = failsWith(ChildExitedException.class, lost);
            assertEquals(ExitStatus.ofExitCode(4), e.exitStatus(), e.getMessage());
            assertTrue(e.stderrTail().contains("gone"), e.stderrTail());
            // the child is gone: a write and a read tell it through their futures, not by throwing
            get(dies.onExit());
            LoopFuture<Void> write = assertDoesNotThrow(() -> dies.writeLine("more"));
            assertInstanceOf(ChannelClosedException.class, ProcessTestSupport.failure(write));
        }
    }

    @Test
    @Timeout(30)
    void aClosedLoopFailsTheFuturesInsteadOfThrowing() throws Exception {
        EventLoop loop = EventLoop.create("complete-on-closed");
        ChildProcess child = ChildProcess.builder("cat").loop(loop).completeOn(executor).start();
        LoopFuture<ExitStatus> exit = child.onExit();
        CompletableFuture<String> exitThread = threadOf(exit);
        loop.close();
        assertEquals(COMPLETER, get(exitThread), "the failed exit future completes on the executor too");
        assertInstanceOf(LoopClosedException.class, ProcessTestSupport.failure(exit));
        for (LoopFuture<?> f : java.util.List.of(
                assertDoesNotThrow(() -> child.readLine()),
                assertDoesNotThrow(() -> child.writeLine("x")),
                assertDoesNotThrow(() -> child.request("x", Duration.ofSeconds(5))),
                assertDoesNotThrow(() -> child.onExit()))) {
            Throwable t = ProcessTestSupport.failure(f);
            assertTrue(t instanceof LoopClosedException || t instanceof ChannelClosedException, String.valueOf(t));
        }
        child.close();
    }
}
