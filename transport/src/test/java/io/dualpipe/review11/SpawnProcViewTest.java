package io.dualpipe.review11;

import io.dualpipe.core.EventLoop;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.PipeDirection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * review11: what a child gets through the jffi posix_spawnp path (argv, envp built in native memory,
 * file actions), read back from the kernel's view in /proc: non-ASCII and empty arguments and values,
 * a 100 KB value, an inherited environment equal to the JVM's, and exactly the fds asked for.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpawnProcViewTest {
    private static final String WIDE = "h\u00e9llo \u2713 \u65e5\u672c";

    @Test
    void argvEnvAndFdsAreExactlyWhatWasAsked() throws Exception {
        String big = "x".repeat(100_000);
        try (EventLoop loop = EventLoop.create("review11-proc");
             ChildProcess p = ChildProcess.builder("sh", "-c", "read x", "sh0", "", WIDE)
                     .clearEnvironment().environment("EMPTY", "").environment("WIDE", WIDE).environment("BIG", big)
                     .extraPipe(PipeDirection.TO_CHILD).loop(loop).start()) {
            int pid = p.pid();
            List<String> argv = nulSeparated(procFile(pid, "cmdline"));
            assertEquals(List.of("sh", "-c", "read x", "sh0", "", WIDE), argv);
            Map<String, String> env = envOf(pid);
            assertEquals(Map.of("EMPTY", "", "WIDE", WIDE, "BIG", big), env);
            assertEquals(Set.of("0", "1", "2", "3"), settledFds(pid, Set.of("0", "1", "2", "3")));
            p.writeLine("done").get(10, TimeUnit.SECONDS);
            assertEquals(ExitStatus.ofExitCode(0), p.onExit().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void anInheritedEnvironmentIsTheJvmsOwn() throws Exception {
        try (EventLoop loop = EventLoop.create("review11-env");
             ChildProcess p = ChildProcess.builder("sh", "-c", "read x").loop(loop).start()) {
            assertEquals(System.getenv(), envOf(p.pid()));
            assertEquals(Set.of("0", "1", "2"), settledFds(p.pid(), Set.of("0", "1", "2")));
            p.writeLine("done").get(10, TimeUnit.SECONDS);
            assertEquals(ExitStatus.ofExitCode(0), p.onExit().get(10, TimeUnit.SECONDS));
        }
    }

    private static Map<String, String> envOf(int pid) throws Exception {
        Map<String, String> env = new HashMap<>();
        for (String kv : nulSeparated(procFile(pid, "environ"))) {
            int eq = kv.indexOf('=');
            env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return env;
    }

    /**
     * /proc/PID/cmdline or environ, once the kernel has set them: glibc's posix_spawn parent resumes
     * when exec releases the old mm (vfork), a moment before the new image's argument area is
     * recorded, so a read right after the spawn can see both empty. Bounded wait on that condition.
     */
    private static byte[] procFile(int pid, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            byte[] b = Files.readAllBytes(Path.of("/proc/" + pid + "/" + name));
            if (b.length > 0 || System.nanoTime() > deadline) {
                return b;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The child's fds once they equal {@code expected}, or what they are after 10 s: the dynamic
     * loader of the new image briefly opens its libraries on the next free fd, so a listing taken
     * during start-up can hold one more; an inherited fd would stay and fail the test.
     */
    private static Set<String> settledFds(int pid, Set<String> expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            Set<String> fds = fdsOf(pid);
            if (fds.equals(expected) || System.nanoTime() > deadline) {
                return fds;
            }
            Thread.onSpinWait();
        }
    }

    private static Set<String> fdsOf(int pid) {
        return new TreeSet<>(Arrays.asList(Path.of("/proc/" + pid + "/fd").toFile().list()));
    }

    private static List<String> nulSeparated(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8);
        if (s.endsWith("\0")) {
            s = s.substring(0, s.length() - 1);
        }
        return Arrays.asList(s.split("\0", -1));
    }
}
