package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.process.internal.ProcessControl;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Resource limits with real children: in force at the first instruction, and each one bites. */
class ResourceLimitsTest {
    private static final int SIGXCPU = 24; // Linux x86_64 and arm64
    private static final int SIGXFSZ = 25;
    private static final int EMFILE = 24;

    @BeforeAll
    static void linuxOnly() {
        assumeTrue(new File("/proc/self/limits").exists(), "reads /proc/<pid>/limits");
    }

    private static ChildProcessBuilder limited(EventLoop loop, ResourceLimits limits, String... argv) {
        return ChildProcess.builder(argv).limits(limits).loop(loop);
    }

    /** "Max open files  64  64  files" -> {"Max open files": [64, 64]} (soft, hard). */
    private static Map<String, String[]> parseLimits(String text) {
        Map<String, String[]> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("Limit") || line.length() < 26) {
                continue;
            }
            String[] values = line.substring(26).trim().split("\\s+");
            out.put(line.substring(0, 26).trim(), new String[] {values[0], values[1]});
        }
        return out;
    }

    @Test
    @Timeout(20)
    void everyLimitIsInForceAtTheProgramsFirstInstruction() throws Exception {
        try (EventLoop loop = EventLoop.create("limits-proc")) {
            ChildProcess cat = limited(loop, ResourceLimits.builder().cpuSeconds(2).addressSpaceBytes(256 << 20)
                    .openFiles(64).processes(32).fileSizeBytes(1 << 20).build(), "cat", "/proc/self/limits").start();
            Map<String, String[]> limits = parseLimits(new String(get(cat.stdout().readAll(1 << 16)), StandardCharsets.UTF_8));
            assertTrue(get(cat.onExit()).isSuccess());
            // cat read its own limits: set before it ran, soft and hard alike (the program cannot raise them back).
            assertEquals(List.of("2", "2"), List.of(limits.get("Max cpu time")));
            assertEquals(List.of("268435456", "268435456"), List.of(limits.get("Max address space")));
            assertEquals(List.of("64", "64"), List.of(limits.get("Max open files")));
            assertEquals(List.of("32", "32"), List.of(limits.get("Max processes")));
            assertEquals(List.of("1048576", "1048576"), List.of(limits.get("Max file size")));
        }
    }

    @Test
    @Timeout(20)
    void theProgramRunsInTheSamePidAndInheritsNoExtraDescriptor() throws Exception {
        try (EventLoop loop = EventLoop.create("limits-fds")) {
            ChildProcess cat = limited(loop, ResourceLimits.builder().openFiles(32).build(), "cat")
                    .extraPipe(PipeDirection.FROM_CHILD).start();
            assertEquals("ready", get(cat.request("ready")));
            // The trampoline's report fd (4 here, after the extra pipe on 3) was closed before the exec.
            assertEquals(List.of(0, 1, 2, 3), io.dualpipe.Leaks.fdsOf(cat.pid()));
            assertTrue(Files.readString(Path.of("/proc/" + cat.pid() + "/cmdline")).startsWith("/"),
                    "argv[0] is the resolved path");
            cat.stdin().shutdownOutput();
            assertTrue(get(cat.onExit()).isSuccess());
        }
    }

    @Test
    @Timeout(30)
    void aCpuLoopIsKilledAtItsCpuLimit() throws Exception {
        try (EventLoop loop = EventLoop.create("limits-cpu")) {
            long start = System.nanoTime();
            ChildProcess spin = limited(loop, ResourceLimits.builder().cpuSeconds(1).build(),
                    "sh", "-c", "while :; do :; done").start();
            ExitStatus status = get(spin.onExit());
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(status.signaled() && (status.signal() == SIGXCPU || status.signal() == ProcessControl.SIGKILL),
                    status.toString());
            assertTrue(ms >= 900, "ran " + ms + " ms, less than its 1 s of CPU");
        }
    }

    @Test
    @Timeout(30)
    void pythonAllocatingOneGibFailsWithMemoryErrorUnder256MibOfAddressSpace() throws Exception {
        try (EventLoop loop = EventLoop.create("limits-as")) {
            ChildProcess py = limited(loop, ResourceLimits.builder().addressSpaceBytes(256L << 20).build(),
                    "python3", "-c", "try:\n    b = bytearray(1 << 30)\n    print('allocated')\n"
                            + "except MemoryError:\n    print('MemoryError')\n").start();
            assertEquals("MemoryError", get(py.readLine()));
            assertTrue(get(py.onExit()).isSuccess());
        }
    }

    @Test
    @Timeout(30)
    void theSeventeenthOpenFailsUnderOpenFiles16() throws Exception {
        try (EventLoop loop = EventLoop.create("limits-nofile")) {
            ChildProcess py = limited(loop, ResourceLimits.builder().openFiles(16).build(), "python3", "-c",
                    "import os\nlast = -1\ntry:\n    while True:\n        last = os.open('/dev/null', os.O_RDONLY)\n"
                            + "except OSError as e:\n    print(last, e.errno)\n").start();
            // fds 0..15 are the 16 allowed; the open that would return fd 16 fails with EMFILE.
            assertEquals("15 " + EMFILE, get(py.readLine()));
            assertTrue(get(py.onExit()).isSuccess());
        }
    }

    @Test
    @Timeout(30)
    void aWriterIsStoppedBySigxfszAtTheFileSizeLimit(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        try (EventLoop loop = EventLoop.create("limits-fsize")) {
            ChildProcess head = limited(loop, ResourceLimits.builder().fileSizeBytes(1 << 20).build(),
                    "head", "-c", "3000000", "/dev/zero").stdoutTo(out).start();
            ExitStatus status = get(head.onExit());
            assertTrue(status.signaled() && status.signal() == SIGXFSZ, status.toString());
            assertEquals(1 << 20, Files.size(out));
        }
    }

    @Test
    @Timeout(60)
    void aForkLoopIsRefusedAtTheProcessLimit() throws Exception {
        List<String> argv = new ArrayList<>();
        boolean root = "0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes(),
                StandardCharsets.US_ASCII).trim());
        if (root) {
            // RLIMIT_NPROC is not enforced for root: run the loop as nobody, which keeps the limits.
            assumeTrue(new File("/usr/bin/setpriv").canExecute(), "as root this needs setpriv to drop to nobody");
            argv.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        argv.addAll(List.of("sh", "-c", "i=0; while [ $i -lt 100 ]; do sleep 30 </dev/null >/dev/null 2>&1 & "
                + "i=$((i+1)); echo $i; done"));
        try (EventLoop loop = EventLoop.create("limits-nproc")) {
            ChildProcess bomb = ChildProcess.builder(argv).limits(ResourceLimits.builder().processes(8).build())
                    .newProcessGroup(true).stderr(StderrMode.MERGE_WITH_STDOUT).loop(loop).start();
            String output = new String(get(bomb.stdout().readAll(1 << 16)), StandardCharsets.UTF_8);
            ExitStatus status = get(bomb.onExit());
            // Its sleeps are still in its group: clean them up (the group cannot be reused while they live).
            ProcessControl.signalGroup(bomb.pid(), ProcessControl.SIGKILL);
            List<String> lines = output.lines().toList();
            long forked = lines.stream().filter(l -> l.matches("\\d+")).count();
            assertTrue(forked < 8, "forked " + forked + " of 100 under processes=8: " + output);
            assertTrue(output.contains("fork"), output);
            assertTrue(!status.isSuccess(), status.toString());
        }
    }

    @Test
    @Timeout(20)
    void aLimitAboveTheJvmsHardLimitIsRefusedByNameAndNothingRuns() throws Exception {
        long hard = Long.parseLong(parseLimits(Files.readString(Path.of("/proc/self/limits"))).get("Max open files")[1]);
        io.dualpipe.Leaks.Baseline fds = io.dualpipe.Leaks.baseline();
        try (EventLoop loop = EventLoop.create("limits-refused")) {
            for (int i = 0; i < 20; i++) {
                ResourceLimitException e = assertThrows(ResourceLimitException.class, () -> limited(loop,
                        ResourceLimits.builder().cpuSeconds(5).openFiles(hard + 1).build(), "cat").start());
                assertEquals("openFiles", e.limit());
                assertEquals(hard + 1, e.value());
                assertEquals("EPERM", e.errnoName());
                assertTrue(e.getMessage().contains("openFiles=" + (hard + 1)), e.getMessage());
            }
            SpawnException missing = assertThrows(SpawnException.class, () -> limited(loop,
                    ResourceLimits.builder().cpuSeconds(5).build(), "no-such-program-here").start());
            assertEquals("ENOENT", missing.errnoName());
            assertEquals("program 'no-such-program-here' not found (ENOENT)", missing.getMessage());
        }
        io.dualpipe.Leaks.awaitNoFdsBeyond(fds);
        io.dualpipe.Leaks.awaitNoZombies();
    }

    @Test
    @Timeout(30)
    void limitedSpawnsLeakNoDescriptor() throws Exception {
        try (EventLoop loop = EventLoop.create("limits-leak")) {
            ChildProcess warm = limited(loop, ResourceLimits.builder().openFiles(64).build(), "true").start();
            get(warm.onDrained());
            io.dualpipe.Leaks.Baseline fds = io.dualpipe.Leaks.baseline();
            for (int i = 0; i < 30; i++) {
                ChildProcess t = limited(loop, ResourceLimits.builder().openFiles(64).build(), "true").start();
                assertTrue(get(t.onDrained()).isSuccess());
            }
            io.dualpipe.Leaks.awaitNoFdsBeyond(fds);
        }
    }

    @Test
    void valuesAreCheckedWhenSet() {
        assertEquals("cpuSeconds < 1: 0", assertThrows(InvalidArgumentException.class,
                () -> ResourceLimits.builder().cpuSeconds(0)).getMessage());
        assertEquals("addressSpaceBytes < 1024: 100", assertThrows(InvalidArgumentException.class,
                () -> ResourceLimits.builder().addressSpaceBytes(100)).getMessage());
        assertThrows(InvalidArgumentException.class, () -> ResourceLimits.builder().fileSizeBytes(-1));
        assertTrue(ResourceLimits.builder().build().isEmpty());
        ChildProcessBuilder sevenPipes = ChildProcess.builder("true").limits(ResourceLimits.builder().openFiles(9).build());
        for (int i = 0; i < 7; i++) {
            sevenPipes.extraPipe(PipeDirection.FROM_CHILD);
        }
        assertThrows(InvalidArgumentException.class, sevenPipes::start);
    }
}
