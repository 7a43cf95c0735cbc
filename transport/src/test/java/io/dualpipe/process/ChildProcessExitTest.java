package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.internal.ProcessControl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.isDead;
import static io.dualpipe.process.ProcessTestSupport.statFields;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How children end: exit codes, signals, terminate, process groups, grandchildren, closing. */
class ChildProcessExitTest {
    private static final int SIGTERM = ProcessControl.SIGTERM;
    private static final int SIGKILL = ProcessControl.SIGKILL;

    @Test
    @Timeout(20)
    void exitCodesAreReported() throws Exception {
        try (EventLoop loop = EventLoop.create("exit-codes")) {
            for (int code : new int[] {0, 1, 255}) {
                ChildProcess sh = ChildProcess.builder("sh", "-c", "exit " + code).loop(loop).start();
                ExitStatus status = get(sh.onExit());
                assertTrue(status.exited());
                assertEquals(code, status.exitCode());
                assertEquals(code == 0, status.isSuccess());
                assertFalse(sh.isAlive());
                assertEquals(status, get(sh.onDrained()));
            }
        }
    }

    @Test
    @Timeout(20)
    void deathBySignalIsReported() throws Exception {
        try (EventLoop loop = EventLoop.create("exit-signals")) {
            for (int sig : new int[] {SIGTERM, SIGKILL}) {
                ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
                assertEquals("up", get(cat.request("up")));
                assertTrue(cat.signal(sig));
                ExitStatus status = get(cat.onExit());
                assertTrue(status.signaled(), status.toString());
                assertEquals(sig, status.signal());
                assertFalse(status.coreDumped());
                assertFalse(cat.signal(sig), "a reaped child is never signalled again");
            }
        }
    }

    @Test
    @Timeout(20)
    void terminateEscalatesToSigkillAfterTheGrace() throws Exception {
        try (EventLoop loop = EventLoop.create("exit-terminate")) {
            ChildProcess stubborn = ChildProcess.builder("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
                    .loop(loop).start();
            assertEquals("ready", get(stubborn.readLine()));
            long t0 = System.nanoTime();
            ExitStatus status = get(stubborn.terminate(Duration.ofMillis(500)));
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(SIGKILL, status.signal());
            assertTrue(elapsedMs >= 450, "killed only after the grace: " + elapsedMs + " ms");

            // a child that honours SIGTERM ends by it, and the pending SIGKILL is never sent
            ChildProcess polite = ChildProcess.builder("cat").loop(loop).start();
            assertEquals(SIGTERM, get(polite.terminate(Duration.ofSeconds(30))).signal());

            // a grace too long for nanoseconds is "never escalate", not an ArithmeticException after the SIGTERM
            ChildProcess patient = ChildProcess.builder("cat").loop(loop).start();
            assertEquals(SIGTERM, get(patient.terminate(Duration.ofDays(200_000))).signal());
        }
    }

    /** sh with two sleeping grandchildren in its own group: terminate reaches all three. */
    @Test
    @Timeout(30)
    void processGroupIsSignalledAsAWhole() throws Exception {
        String script = "sleep 1000 & echo $!; sleep 1000 & echo $!; wait";
        try (EventLoop loop = EventLoop.create("exit-group")) {
            ChildProcess leader = ChildProcess.builder("sh", "-c", script).newProcessGroup(true).loop(loop).start();
            int g1 = Integer.parseInt(get(leader.readLine()));
            int g2 = Integer.parseInt(get(leader.readLine()));
            assertEquals(String.valueOf(leader.pid()), statFields(g1)[2], "grandchild in the child's group");
            assertFalse(isDead(g1));
            assertFalse(isDead(g2));
            assertEquals(SIGTERM, get(leader.terminate(Duration.ofSeconds(5))).signal());
            await("grandchildren " + g1 + " and " + g2 + " dead", () -> isDead(g1) && isDead(g2));

            // the same with a plain signal() to the group
            ChildProcess leader2 = ChildProcess.builder("sh", "-c", script).newProcessGroup(true).loop(loop).start();
            int h1 = Integer.parseInt(get(leader2.readLine()));
            int h2 = Integer.parseInt(get(leader2.readLine()));
            assertTrue(leader2.signal(SIGKILL));
            assertEquals(SIGKILL, get(leader2.onExit()).signal());
            await("grandchildren " + h1 + " and " + h2 + " dead", () -> isDead(h1) && isDead(h2));
        }
    }

    /** Without its own group, a signal reaches the child only; its grandchild lives on. */
    @Test
    @Timeout(30)
    void withoutAGroupOnlyTheChildIsSignalled() throws Exception {
        try (EventLoop loop = EventLoop.create("exit-nogroup")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "sleep 1000 & echo $!; wait")
                    .stderr(StderrMode.DISCARD).loop(loop).start();
            int grandchild = Integer.parseInt(get(sh.readLine()));
            assertTrue(sh.signal(SIGTERM));
            assertEquals(SIGTERM, get(sh.onExit()).signal());
            try {
                assertFalse(isDead(grandchild), "the grandchild was not in the signalled group");
                assertFalse(sh.onDrained().isDone(), "the grandchild still holds stdout");
            } finally {
                ProcessHandle.of(grandchild).ifPresent(ProcessHandle::destroyForcibly);
            }
            assertEquals(SIGTERM, get(sh.onDrained()).signal());
            await("grandchild " + grandchild + " dead", () -> isDead(grandchild));
        }
    }

    /**
     * A grandchild keeps stdout open after the child exits: onExit completes at once, onDrained only
     * when the grandchild ends and the pipe reaches end of stream. The grandchild lives until the test
     * opens its gate (a file it waits for), not for a fixed time a busy machine could outlast.
     */
    @Test
    @Timeout(30)
    void grandchildHoldingStdoutDelaysOnlyOnDrained(@TempDir Path dir) throws Exception {
        Path gate = dir.resolve("gate");
        try (EventLoop loop = EventLoop.create("exit-grandchild")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c",
                    // ...or until the temporary directory is gone, should the test fail before opening it.
                    "(while [ ! -e \"$0\" ] && [ -d \"$1\" ]; do sleep 0.05; done) & echo started",
                    gate.toString(), dir.toString()).loop(loop).start();
            assertEquals("started", get(sh.readLine()));
            assertTrue(get(sh.onExit()).isSuccess(), "onExit while the grandchild still holds stdout");
            LoopFuture<String> eof = sh.readLine();
            assertFalse(sh.onDrained().isDone(), "drained while the grandchild holds stdout");
            assertFalse(eof.isDone(), "end of stream while the grandchild holds stdout");
            Files.createFile(gate);
            assertTrue(get(sh.onDrained()).isSuccess());
            assertNull(get(eof));
        }
    }

    /** Our reaping never takes a status from the JDK's children, nor the JDK ours. */
    @Test
    @Timeout(60)
    void jdkProcessBuilderChildrenKeepTheirExitCodes() throws Exception {
        try (EventLoop loop = EventLoop.create("exit-jdk")) {
            for (int i = 0; i < 20; i++) {
                String delay = i % 2 == 0 ? "0" : "0.05";
                Process jdk;
                ChildProcess ours;
                if (i % 3 == 0) {
                    ours = ChildProcess.builder("sh", "-c", "sleep " + delay + "; exit 9").loop(loop).start();
                    jdk = new ProcessBuilder("sh", "-c", "sleep " + delay + "; exit 7").start();
                } else {
                    jdk = new ProcessBuilder("sh", "-c", "sleep " + delay + "; exit 7").start();
                    ours = ChildProcess.builder("sh", "-c", "sleep " + delay + "; exit 9").loop(loop).start();
                }
                assertTrue(jdk.waitFor(10, TimeUnit.SECONDS));
                assertEquals(7, jdk.exitValue(), "the JDK's child, round " + i);
                assertEquals(9, get(ours.onExit()).exitCode(), "our child, round " + i);
            }
        }
    }

    /** Closing the loop kills and reaps what runs on it, and fails what was pending with LoopClosedException. */
    @Test
    @Timeout(40)
    void closingTheLoopKillsReapsAndFailsPendingWork() throws Exception {
        EventLoop loop = EventLoop.create("exit-loop-close");
        List<ChildProcess> children = new ArrayList<>();
        int grandchild;
        LoopFuture<byte[]> pendingRead;
        LoopFuture<String> pendingRequest;
        LoopFuture<Void> pendingWrite;
        try {
            ChildProcess reader = start(children, ChildProcess.builder("cat").loop(loop));
            pendingRead = reader.stdout().read(100);
            ChildProcess asker = start(children, ChildProcess.builder("sh", "-c", "read x; echo got; read y; sleep 1000").loop(loop));
            assertEquals("got", get(asker.request("first")));
            pendingRequest = asker.request("unanswered");
            ChildProcess stuck = start(children, ChildProcess.builder("cat").loop(loop));
            pendingWrite = stuck.stdin().write(new byte[10 * 1024 * 1024]); // nobody reads cat's stdout
            ChildProcess stubborn = start(children, ChildProcess.builder("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done").loop(loop));
            assertEquals("ready", get(stubborn.readLine()));
            ChildProcess group = start(children, ChildProcess.builder("sh", "-c", "sleep 1000 & echo $!; wait")
                    .newProcessGroup(true).loop(loop));
            grandchild = Integer.parseInt(get(group.readLine()));
            await("cat blocked on its full stdout", () -> !stuck.stdin().isWritable());
        } finally {
            loop.close();
        }
        for (ChildProcess c : children) {
            assertFalse(c.isAlive(), c.toString());
            failsWith(LoopClosedException.class, c.onExit(), "onExit of " + c);
            assertNull(statFields(c.pid()), "pid " + c.pid() + " was reaped: no /proc entry left");
        }
        failsWith(LoopClosedException.class, pendingRead, "pending read");
        failsWith(LoopClosedException.class, pendingRequest, "pending request");
        failsWith(LoopClosedException.class, pendingWrite, "pending write");
        await("grandchild " + grandchild + " dead", () -> isDead(grandchild));
        Leaks.awaitNoZombies();
    }

    private static ChildProcess start(List<ChildProcess> all, ChildProcessBuilder b) {
        ChildProcess p = b.start();
        all.add(p);
        return p;
    }

    /**
     * close() on a running child kills it: the status is SIGKILL even for a child that would end on
     * its own once its stdin closes (close used to close stdin first, so cat often exited 0).
     */
    @Test
    @Timeout(60)
    void closeKillsARunningChild() throws Exception {
        try (EventLoop loop = EventLoop.create("exit-close")) {
            for (int i = 0; i < 100; i++) {
                ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
                assertEquals("up", get(cat.request("up")));
                cat.close();
                ExitStatus status = get(cat.onExit());
                assertTrue(status.signaled() && status.signal() == SIGKILL, "round " + i + ": " + status);
                failsWith(ChannelClosedException.class, cat.stdin().write("late"));
                cat.close(); // idempotent
            }
        }
    }

    @Test
    @Timeout(20)
    void closeAfterExitKeepsTheStatus() throws Exception {
        try (EventLoop loop = EventLoop.create("exit-close-after")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "exit 4").loop(loop).start();
            assertEquals(4, get(sh.onExit()).exitCode());
            sh.close();
            assertEquals(4, get(sh.onExit()).exitCode());
            assertFalse(sh.signal(SIGKILL));
        }
    }

    @Test
    @Timeout(20)
    void startOnAClosedLoopFailsCleanly() throws Exception {
        EventLoop loop = EventLoop.create("exit-closed-loop");
        loop.close();
        Leaks.Baseline fds = Leaks.baseline();
        assertThrows(LoopClosedException.class, () -> ChildProcess.builder("cat").loop(loop).start());
        LoopFuture<ChildProcess> f = ChildProcess.builder("cat").loop(loop).spawn();
        failsWith(LoopClosedException.class, f);
        Leaks.awaitNoFdsBeyond(fds);
        Leaks.assertNoZombies(fds);
        assertTrue(loop.terminationFuture().isDone());
    }
}
