package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ChildProcessSmokeTest {
    @Test
    @Timeout(20)
    void catRequestReply() throws Exception {
        try (EventLoop loop = EventLoop.create("smoke")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            assertEquals("hello", cat.request("hello").get(5, TimeUnit.SECONDS));
            String chained = cat.request("x=5").thenCompose(r -> cat.request(r + "!")).get(5, TimeUnit.SECONDS);
            assertEquals("x=5!", chained);
            cat.stdin().shutdownOutput();
            assertEquals(ExitStatus.ofExitCode(0), cat.onExit().get(5, TimeUnit.SECONDS));
            cat.onDrained().get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(20)
    void readLinesAndExitCode() throws Exception {
        try (EventLoop loop = EventLoop.create("smoke")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "echo one; printf 'two'; exit 3").loop(loop).start();
            assertEquals("one", sh.readLine().get(5, TimeUnit.SECONDS));
            assertEquals("two", sh.readLine().get(5, TimeUnit.SECONDS));
            assertNull(sh.readLine().get(5, TimeUnit.SECONDS));
            assertEquals(3, sh.onExit().get(5, TimeUnit.SECONDS).exitCode());
        }
    }

    @Test
    @Timeout(20)
    void terminateEscalates() throws Exception {
        try (EventLoop loop = EventLoop.create("smoke")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done").loop(loop).start();
            assertEquals("ready", sh.readLine().get(5, TimeUnit.SECONDS));
            ExitStatus st = sh.terminate(Duration.ofMillis(200)).get(5, TimeUnit.SECONDS);
            assertEquals(9, st.signal());
        }
    }
}
