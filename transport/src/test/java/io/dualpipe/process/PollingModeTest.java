package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exit watcher used where there is no pidfd (macOS, old kernels, seccomp), exercised on Linux in
 * a child JVM whose spawns are told not to open pidfds.
 */
class PollingModeTest {
    @Test
    @Timeout(60)
    void childrenWatchedByPollingExitSignalAndReap() throws Exception {
        try (EventLoop loop = EventLoop.create("polling-parent")) {
            ChildProcess jvm = JavaChild.of(PollingModeMain.class).jvmOptions("-Ddualpipe.pidfd=false")
                    .processBuilder().stderr(StderrMode.MERGE_WITH_STDOUT).loop(loop).start();
            List<String> lines = new ArrayList<>();
            for (String line = jvm.readLine().get(30, TimeUnit.SECONDS); line != null; line = jvm.readLine().get(30, TimeUnit.SECONDS)) {
                lines.add(line);
            }
            ExitStatus status = jvm.onExit().get(30, TimeUnit.SECONDS);
            assertTrue(lines.contains("polling mode: all checks passed"), String.join("\n", lines));
            assertEquals(ExitStatus.ofExitCode(0), status, String.join("\n", lines));
        }
    }
}
