package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs in a child JVM started with {@code -Ddualpipe.pidfd=false}: every child it starts is watched
 * by polling {@code waitpid(pid, WNOHANG)}, the way it is where there is no pidfd (macOS). Prints
 * one line per check and exits 0 only if all pass.
 */
public final class PollingModeMain {
    public static void main(String[] args) throws Exception {
        int zombieCandidate;
        try (EventLoop loop = EventLoop.create("polling")) {
            ChildProcess exit7 = ChildProcess.builder("sh", "-c", "exit 7").loop(loop).start();
            check("exit code", exit7.onExit().get(10, TimeUnit.SECONDS).exitCode() == 7);

            ChildProcess trapper = ChildProcess.builder("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
                    .loop(loop).start();
            check("ready line", "ready".equals(trapper.readLine().get(10, TimeUnit.SECONDS)));
            check("terminate escalates", trapper.terminate(Duration.ofMillis(200)).get(10, TimeUnit.SECONDS).signal() == 9);
            check("no signal after reaping", !trapper.signal(15));

            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            check("request", "x".equals(cat.request("x").get(10, TimeUnit.SECONDS)));
            cat.stdin().shutdownOutput();
            check("cat exits 0", cat.onExit().get(10, TimeUnit.SECONDS).isSuccess());

            ChildProcess sleeper = ChildProcess.builder("sleep", "100").loop(loop).start();
            zombieCandidate = sleeper.pid();
            loop.close(); // kills and reaps the child still on the loop
            try {
                sleeper.onExit().get(10, TimeUnit.SECONDS);
                check("loop close fails onExit", false);
            } catch (ExecutionException e) {
                check("loop close fails onExit", e.getCause() instanceof LoopClosedException);
            }
        }
        check("closed loop reaped its child", !java.nio.file.Files.exists(java.nio.file.Path.of("/proc/" + zombieCandidate)));
        System.out.println("polling mode: all checks passed");
    }

    private static void check(String what, boolean ok) {
        System.out.println((ok ? "ok   " : "FAIL ") + what);
        if (!ok) {
            System.exit(1);
        }
    }
}
