package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link StderrMode#TAIL}, the default: stderr never stalls a child, and its tail explains a death. */
class StderrTailTest {
    private static final String CHATTY = "head -c 1000000 /dev/zero | tr '\\0' x >&2; echo ok";

    /** With the old default (an unread PIPE) the child blocked on its 65th KiB of stderr and never answered. */
    @Test
    @Timeout(30)
    void aChildWritingAMegabyteToStderrStillAnswersWithTheDefaultBuilder() throws Exception {
        try (EventLoop loop = EventLoop.create("tail-chatty")) {
            Leaks.Baseline before = Leaks.baseline();
            ChildProcess sh = ChildProcess.builder("sh", "-c", CHATTY).loop(loop).start();
            assertEquals("ok", get(sh.readLine()));
            assertTrue(get(sh.onDrained()).isSuccess());
            String tail = sh.stderrTail();
            assertEquals(64 * 1024, tail.length(), "the last 64 KiB, no more");
            assertTrue(tail.chars().allMatch(c -> c == 'x'));
            Leaks.awaitNoFdsBeyond(before);
            Leaks.assertNoZombies(before);
        }
    }

    @Test
    @Timeout(30)
    void theTailKeepsTheLastBytesAsSized() throws Exception {
        try (EventLoop loop = EventLoop.create("tail-sized")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "printf 0123456789 >&2; printf abcdef >&2")
                    .stderrTail(10).loop(loop).start();
            get(sh.onDrained());
            assertEquals("6789abcdef", sh.stderrTail());
            assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder("true").stderrTail(0));
        }
    }

    @Test
    @Timeout(30)
    void aPendingRequestFailsWithTheExitStatusAndTheStderrTail() throws Exception {
        try (EventLoop loop = EventLoop.create("tail-death")) {
            Leaks.Baseline before = Leaks.baseline();
            ChildProcess sh = ChildProcess.builder("sh", "-c", "read x; echo boom >&2; exit 3").loop(loop).start();
            ChildExitedException e = failsWith(ChildExitedException.class, sh.request("hello", Duration.ofSeconds(10)));
            assertDiedOfBoom(e, sh);
            assertTrue(e.getMessage().contains("'hello'"), e.getMessage());
            Leaks.awaitNoFdsBeyond(before);
            Leaks.assertNoZombies(before);
        }
    }

    /** The child died before the request was made: the request fails the same way, never hangs. */
    @Test
    @Timeout(30)
    void aRequestToAChildThatAlreadyDiedFailsTheSameWay() throws Exception {
        try (EventLoop loop = EventLoop.create("tail-dead")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "echo boom >&2; exit 3").loop(loop).start();
            assertEquals(3, get(sh.onExit()).exitCode());
            assertDiedOfBoom(failsWith(ChildExitedException.class, sh.request("late")), sh);
        }
    }

    private static void assertDiedOfBoom(ChildExitedException e, ChildProcess sh) {
        assertNotNull(e.exitStatus(), e.getMessage());
        assertEquals(3, e.exitStatus().exitCode());
        assertEquals("boom\n", e.stderrTail());
        assertEquals(sh.pid(), e.pid());
        assertTrue(e.getMessage().contains("exit 3") && e.getMessage().contains("boom"), e.getMessage());
    }

    @Test
    @Timeout(30)
    void stderrIsNotTheCallersInTailModeAndThePipeModeStillServesIt() throws Exception {
        try (EventLoop loop = EventLoop.create("tail-pipe")) {
            ChildProcess tail = ChildProcess.builder("sh", "-c", "echo err >&2").loop(loop).start();
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, tail::stderr);
            assertTrue(e.getMessage().contains("StderrMode.TAIL") && e.getMessage().contains("StderrMode.PIPE"), e.getMessage());
            assertThrows(InvalidArgumentException.class, tail::errorLines);
            get(tail.onDrained());
            assertEquals("err\n", tail.stderrTail());

            ChildProcess pipe = ChildProcess.builder("sh", "-c", "echo err >&2").stderr(StderrMode.PIPE).loop(loop).start();
            assertEquals("err", get(pipe.errorLines().readLine()));
            get(pipe.onDrained());
            assertEquals("", pipe.stderrTail(), "no tail when the caller reads stderr");
        }
    }
}
