package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A request to a child that has exited, while a grandchild still holds its stdout and stderr open:
 * the reply stream has not ended, so the request is written, and the write fails (the library shut
 * the dead child's stdin). The request must fail with the child's exit, as when the reply stream had
 * ended first, not with the conversation's break that the failed write also causes. Before the fix
 * the break won whenever the stderr tail had not ended yet: StderrTailTest failed that way under load.
 */
class DeadChildRequestTest {

    @RepeatedTest(3)
    @Timeout(30)
    void aWriteThatFailsBecauseTheChildDiedFailsWithItsExit() throws Exception {
        try (EventLoop loop = EventLoop.create("dead-request")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "sleep 3 </dev/null & echo boom >&2; exit 3").loop(loop).start();
            assertEquals(3, get(sh.onExit()).exitCode());
            ExecutionException e = assertThrows(ExecutionException.class, () -> sh.request("late").get(20, TimeUnit.SECONDS));
            ChildExitedException died = assertInstanceOf(ChildExitedException.class, e.getCause(), String.valueOf(e.getCause()));
            assertNotNull(died.exitStatus(), died.getMessage());
            assertEquals(3, died.exitStatus().exitCode());
            assertEquals("boom\n", died.stderrTail());
            sh.close();
        }
    }
}
