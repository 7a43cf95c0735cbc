package io.dualpipe.review14;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.PipeDirection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * review14: a FIFO conversation whose request R fails to be written mid-stream (stdin closed while
 * most of R is still queued) while a later request C is queued behind it. The child got R's head
 * and answers it, then prints one more line. C never reached the child, so no
 * line may complete C: the conversation must be broken (C out of the FIFO) before anything else can
 * be paired, including while R's caller's stages run (they run on the thread that failed the write,
 * here the one closing stdin, which may take its time: it is not the loop).
 */
class FailedWriteReplyPairingTest {
    // Replies to the first line, then waits for the parent's go on fd 3 without reading stdin (so
    // most of R stays queued), then answers the head of R it got, then prints one more line.
    private static final String CHILD = String.join("\n",
            "import sys, os",
            "a = sys.stdin.readline()",
            "print('r:' + a.strip(), flush=True)",
            "os.fdopen(3, 'r').readline()",
            "head = sys.stdin.read(4)",
            "print('r:' + head, flush=True)",
            "print('end', flush=True)",
            "sys.stdin.read()");

    @Test
    @Timeout(60)
    void aLineAfterAFailedWriteNeverCompletesTheRequestQueuedBehindIt() throws Exception {
        try (EventLoop loop = EventLoop.create("r14-failed-write")) {
            ChildProcess child = ChildProcess.builder("python3", "-c", CHILD).extraPipe(PipeDirection.TO_CHILD)
                    .loop(loop).start();
            try {
                ByteSink gate = child.pipeToChild(3);
                Conversation c = Conversation.builder(child.stdin(), child.lines()).pipelined(true).build();
                List<String> unsolicited = new ArrayList<>();
                c.onUnsolicitedLine(line -> {
                    synchronized (unsolicited) {
                        unsolicited.add(line);
                        unsolicited.notifyAll();
                    }
                });
                assertEquals("r:a", c.request("a").get(20, TimeUnit.SECONDS));
                LoopFuture<String> r = c.request("x".repeat(1 << 20)); // far over the pipe's buffer: mostly queued
                LoopFuture<String> later = c.request("c");
                AtomicReference<String> callbackThread = new AtomicReference<>();
                CompletableFuture<Void> callbackDone = new CompletableFuture<>();
                r.whenComplete((v, e) -> {
                    callbackThread.set(Thread.currentThread().getName());
                    try {
                        // R's caller reacts to its failure; meanwhile the child answers and the loop reads on.
                        gate.write("go\n");
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        synchronized (unsolicited) {
                            while (!later.isDone() && unsolicited.size() < 2 && System.nanoTime() < deadline) {
                                unsolicited.wait(50);
                            }
                        }
                        callbackDone.complete(null);
                    } catch (Throwable t) {
                        callbackDone.completeExceptionally(t);
                    }
                });
                child.stdin().close(); // fails R's queued rest, and C's, on this thread
                callbackDone.get(30, TimeUnit.SECONDS);
                assertTrue(r.isCompletedExceptionally(), "R was never fully written");
                ExecutionException e = assertThrows(ExecutionException.class, () -> later.get(20, TimeUnit.SECONDS),
                        () -> "C never reached the child, yet completed with '" + later.getNow(null)
                                + "' (callback on " + callbackThread.get() + ", unsolicited " + unsolicited + ")");
                assertTrue(c.isBroken(), String.valueOf(e.getCause()));
            } finally {
                child.close();
            }
        }
    }
}
