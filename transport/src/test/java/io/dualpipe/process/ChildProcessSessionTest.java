package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.process.internal.ProcessControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static io.dualpipe.process.ProcessTestSupport.MY_PID;
import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.isDead;
import static io.dualpipe.process.ProcessTestSupport.statFields;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** newSession(true): the child leads a session of its own, and its group still goes down with it. */
class ChildProcessSessionTest {

    @Test
    @Timeout(20)
    void childLeadsANewSessionAndItsGroupIsTerminatedWithIt() throws Exception {
        try (EventLoop loop = EventLoop.create("session")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "sleep 100 & echo $!; cat")
                    .newSession(true).loop(loop).start();
            long grandchild = Long.parseLong(get(sh.readLine()));
            String[] child = statFields(sh.pid());
            assertEquals(String.valueOf(sh.pid()), child[2], "pgid == pid");
            assertEquals(String.valueOf(sh.pid()), child[3], "sid == pid");
            assertNotEquals(statFields(MY_PID)[3], child[3], "not the JVM's session");
            assertEquals(String.valueOf(sh.pid()), statFields(grandchild)[3], "the grandchild is in it too");

            ExitStatus status = get(sh.terminate(Duration.ofSeconds(5)));
            assertTrue(status.signaled() && status.signal() == ProcessControl.SIGTERM, status.toString());
            await("grandchild " + grandchild + " gone with its group", () -> isDead(grandchild));
            io.dualpipe.Leaks.awaitNoZombies();
        }
    }

    @Test
    @Timeout(20)
    void killOnCloseReachesTheWholeSession() throws Exception {
        try (EventLoop loop = EventLoop.create("session-close")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "sleep 100 & echo $!; cat")
                    .newSession(true).loop(loop).start();
            long grandchild = Long.parseLong(get(sh.readLine()));
            sh.close();
            ExitStatus status = get(sh.onExit());
            assertTrue(status.signaled() && status.signal() == ProcessControl.SIGKILL, status.toString());
            await("grandchild " + grandchild + " killed with its group", () -> isDead(grandchild));
        }
    }

    @Test
    @Timeout(20)
    void withoutItTheChildStaysInTheJvmsSession() throws Exception {
        try (EventLoop loop = EventLoop.create("no-session")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "echo up; cat").newProcessGroup(true).loop(loop).start();
            assertEquals("up", get(sh.readLine()));
            String[] child = statFields(sh.pid());
            assertEquals(String.valueOf(sh.pid()), child[2], "its own group");
            assertEquals(statFields(MY_PID)[3], child[3], "but the JVM's session");
            sh.close();
            get(sh.onExit());
        }
    }
}
