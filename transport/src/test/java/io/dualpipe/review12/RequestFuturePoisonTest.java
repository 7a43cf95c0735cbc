package io.dualpipe.review12;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * review12: ChildProcess.request now hands out the conversation's own reply future (no wrapper). A
 * caller's cancel/complete on it must not make a later request get another's reply, and a request
 * outstanding when the child dies must still fail with the child's exit.
 */
class RequestFuturePoisonTest {

    @ParameterizedTest
    @ValueSource(strings = {"cancel", "complete", "completeExceptionally", "obtrude"})
    @Timeout(30)
    void aPoisonedReplyFutureLeavesLaterRequestsPairedRight(String poison) throws Exception {
        try (EventLoop loop = EventLoop.create("r12-poison")) {
            // Answers only once it has two lines: the test poisons the first reply before it can come.
            ChildProcess child = ChildProcess.builder("sh", "-c", "read a; read b; echo \"$a\"; exec cat").loop(loop).start();
            LoopFuture<String> first = child.request("first");
            switch (poison) {
                case "cancel" -> first.cancel(true);
                case "complete" -> first.complete("fake");
                case "completeExceptionally" -> first.completeExceptionally(new IllegalStateException("mine"));
                default -> first.obtrudeValue("obtruded");
            }
            child.writeLine("unsolicited").get(10, TimeUnit.SECONDS); // lets the child answer "first"
            for (int i = 0; i < 50; i++) {
                assertEquals("r" + i, child.request("r" + i).get(10, TimeUnit.SECONDS), "request " + i);
            }
            child.stdin().shutdownOutput();
            assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
        }
    }

    @Test
    @Timeout(30)
    void anOutstandingRequestFailsWithTheExitWhenTheChildDies() throws Exception {
        try (EventLoop loop = EventLoop.create("r12-death")) {
            ChildProcess child = ChildProcess.builder("sh", "-c", "read a; echo bye >&2; exit 3").loop(loop).start();
            LoopFuture<String> r = child.request("x");
            LoopFuture<String> withTimeout = child.request("y", java.time.Duration.ofSeconds(20));
            Throwable e = assertThrows(ExecutionException.class, () -> r.get(10, TimeUnit.SECONDS)).getCause();
            assertTrue(e instanceof ChildExitedException, e.toString());
            assertTrue(e.getMessage().contains("exit") && e.getMessage().contains("bye"), e.getMessage());
            Throwable e2 = assertThrows(ExecutionException.class, () -> withTimeout.get(10, TimeUnit.SECONDS)).getCause();
            assertTrue(e2 instanceof ChildExitedException, e2.toString());
            // After the end, a new request fails too, never hangs.
            Throwable e3 = assertThrows(ExecutionException.class,
                    () -> child.request("z").get(10, TimeUnit.SECONDS)).getCause();
            assertTrue(e3 instanceof ChildExitedException, e3.toString());
        }
    }
}
