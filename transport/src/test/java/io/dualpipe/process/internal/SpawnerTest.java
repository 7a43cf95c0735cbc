package io.dualpipe.process.internal;

import io.dualpipe.Leaks;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.SpawnException;
import io.dualpipe.process.internal.SpawnSpec.PipeDirection;
import io.dualpipe.process.internal.SpawnSpec.Stderr;
import io.dualpipe.process.internal.SpawnSpec.Stdin;
import io.dualpipe.process.internal.SpawnSpec.Stdout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.process.internal.TestChildren.closeOthers;
import static io.dualpipe.process.internal.TestChildren.readAllAndClose;
import static io.dualpipe.process.internal.TestChildren.readLine;
import static io.dualpipe.process.internal.TestChildren.statFields;
import static io.dualpipe.process.internal.TestChildren.waitFor;
import static io.dualpipe.process.internal.TestChildren.writeAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Real children only; fds are driven with blocking helpers since there is no event loop here. */
class SpawnerTest {

    @BeforeAll
    static void warmUp() throws Exception {
        // First use loads jnr stubs and may open descriptors of its own; do it before any baseline.
        Spawned s = Spawner.spawn(SpawnSpec.builder("true").build());
        s.closeAll();
        waitFor(s.pid());
    }

    // ---- plumbing -------------------------------------------------------------------------------

    @Test
    @Timeout(10)
    void echoesThroughCat() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("cat").build());
        writeAll(s.stdinFd(), "hello\nworld\n");
        Native.closeQuietly(s.stdinFd());
        assertEquals("hello\nworld\n", readAllAndClose(s.stdoutFd()));
        assertEquals("", readAllAndClose(s.stderrFd()));
        Native.closeQuietly(s.pidfd());
        assertEquals(ExitStatus.ofExitCode(0), waitFor(s.pid()));
    }

    @Test
    @Timeout(10)
    void parentEndsAreNonBlockingAndCloexecAndPidfdIsToo() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("cat").extraPipe(PipeDirection.CHILD_WRITES).build());
        try {
            for (int fd : new int[] {s.stdinFd(), s.stdoutFd(), s.stderrFd(), s.extraFd(0)}) {
                assertTrue(fd > 2, "fd " + fd);
                assertNotEquals(0, Native.LIBC.fcntl(fd, Native.F_GETFL, 0) & Native.O_NONBLOCK, "O_NONBLOCK on " + fd);
                assertNotEquals(0, Native.LIBC.fcntl(fd, Native.F_GETFD, 0) & Native.FD_CLOEXEC, "FD_CLOEXEC on " + fd);
            }
            if (Native.LINUX) {
                assertTrue(s.pidfd() >= 0, "pidfd on Linux >= 5.3: " + s.pidfd());
                assertNotEquals(0, Native.LIBC.fcntl(s.pidfd(), Native.F_GETFL, 0) & Native.O_NONBLOCK);
                assertNotEquals(0, Native.LIBC.fcntl(s.pidfd(), Native.F_GETFD, 0) & Native.FD_CLOEXEC);
            }
        } finally {
            s.closeAll();
        }
        assertTrue(waitFor(s.pid()).isSuccess());
    }

    /**
     * Inspects a live cat from outside (/proc/PID/fd) after one echo round trip, so it is surely
     * blocked in read with nothing else open. A parent fd without CLOEXEC must not reach it.
     */
    @ParameterizedTest
    @EnumSource(value = Spawner.CloseStrategy.class, names = {"CLOSEFROM", "PROC_SCAN"})
    @Timeout(10)
    void childInheritsOnlyItsMappedFds(Spawner.CloseStrategy strategy) throws Exception {
        assumeTrue(Native.LINUX);
        assumeTrue(strategy != Spawner.CloseStrategy.CLOSEFROM || Posix.HAS_ADDCLOSEFROM);
        int[] leaky = new int[2];
        assertEquals(0, Native.LIBC.pipe2(leaky, 0)); // deliberately without O_CLOEXEC
        try {
            assertEquals(List.of(0, 1, 2), fdsOfCat(SpawnSpec.builder("cat").build(), strategy));
            assertEquals(List.of(0, 1, 2, 3),
                    fdsOfCat(SpawnSpec.builder("cat").extraPipe(PipeDirection.CHILD_WRITES).build(), strategy));
        } finally {
            Native.closeQuietly(leaky[0]);
            Native.closeQuietly(leaky[1]);
        }
    }

    private static List<Integer> fdsOfCat(SpawnSpec spec, Spawner.CloseStrategy strategy) throws Exception {
        Spawned s = Spawner.spawn(spec, strategy);
        try {
            writeAll(s.stdinFd(), "ping\n");
            assertEquals("ping", readLine(s.stdoutFd()));
            return Leaks.fdsOf(s.pid());
        } finally {
            s.closeAll();
            waitFor(s.pid());
        }
    }

    @Test
    @Timeout(10)
    void childSeesItsFdsFromTheInsideToo() throws Exception {
        // The shell lists its own fds. dash's glob holds the directory open while expanding, so the
        // listing may show one more fd than inherited: the lowest free one, i.e. the next number.
        String script = "for f in /proc/$$/fd/*; do echo ${f##*/}; done";
        for (int extras = 0; extras <= 1; extras++) {
            SpawnSpec.Builder b = SpawnSpec.builder("/bin/sh", "-c", script).stdin(Stdin.NULL_DEVICE);
            List<String> inherited = new ArrayList<>(List.of("0", "1", "2"));
            if (extras == 1) {
                b.extraPipe(PipeDirection.CHILD_WRITES);
                inherited.add("3");
            }
            Spawned s = Spawner.spawn(b.build());
            List<String> seen = sortedLines(readAllAndClose(s.stdoutFd()));
            closeOthers(s, s.stdoutFd());
            waitFor(s.pid());
            List<String> withGlobFd = new ArrayList<>(inherited);
            withGlobFd.add(String.valueOf(inherited.size()));
            assertTrue(seen.equals(inherited) || seen.equals(withGlobFd), seen + " vs inherited " + inherited);
        }
    }

    @Test
    @Timeout(10)
    void extraPipesWorkInBothDirections() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("/bin/sh", "-c", "tr a-z A-Z <&3 >&4")
                .extraPipe(PipeDirection.CHILD_READS)
                .extraPipe(PipeDirection.CHILD_WRITES)
                .stdin(Stdin.NULL_DEVICE).stdout(Stdout.DISCARD).stderr(Stderr.DISCARD)
                .build());
        assertEquals(-1, s.stdinFd());
        assertEquals(-1, s.stdoutFd());
        assertEquals(-1, s.stderrFd());
        assertEquals(2, s.extraFdCount());
        writeAll(s.extraFd(0), "over fd three\n");
        Native.closeQuietly(s.extraFd(0));
        assertEquals("OVER FD THREE\n", readAllAndClose(s.extraFd(1)));
        Native.closeQuietly(s.pidfd());
        assertTrue(waitFor(s.pid()).isSuccess());
    }

    @Test
    @Timeout(10)
    void nullDeviceStdinGivesImmediateEof() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("cat").stdin(Stdin.NULL_DEVICE).build());
        assertEquals(-1, s.stdinFd());
        assertEquals("", readAllAndClose(s.stdoutFd()));
        closeOthers(s, s.stdoutFd());
        assertTrue(waitFor(s.pid()).isSuccess());
    }

    @Test
    @Timeout(10)
    void pipeSizeIsApplied() throws Exception {
        assumeTrue(Native.LINUX);
        Spawned s = Spawner.spawn(SpawnSpec.builder("cat").pipeSize(256 * 1024).build());
        try {
            assertEquals(256 * 1024, Native.LIBC.fcntl(s.stdinFd(), Posix.F_GETPIPE_SZ, 0));
            assertEquals(256 * 1024, Native.LIBC.fcntl(s.stdoutFd(), Posix.F_GETPIPE_SZ, 0));
        } finally {
            s.closeAll();
        }
        waitFor(s.pid());
    }

    // ---- stdin/stdout from a caller's fd ------------------------------------------------------------

    /** The spawn copies the caller's fds and never closes them; spawning one spec twice works. */
    @Test
    @Timeout(10)
    void stdioFromCallerFdsStaysTheCallers() throws Exception {
        Leaks.Baseline before = Leaks.baseline();
        int[] in = Spawner.pipe("test", 0);
        int[] out = Spawner.pipe("test", 0);
        SpawnSpec spec = SpawnSpec.builder("cat").stdinFromFd(in[0]).stdoutToFd(out[1]).stderr(Stderr.DISCARD).build();
        List<Integer> pids = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Spawned s = Spawner.spawn(spec);
            assertEquals(-1, s.stdinFd());
            assertEquals(-1, s.stdoutFd());
            Native.closeQuietly(s.pidfd());
            pids.add(s.pid());
        }
        assertTrue(Native.LIBC.fcntl(in[0], Native.F_GETFD, 0) >= 0, "caller's stdin fd still open");
        assertTrue(Native.LIBC.fcntl(out[1], Native.F_GETFD, 0) >= 0, "caller's stdout fd still open");
        Native.closeQuietly(in[0]);
        Native.closeQuietly(out[1]);
        writeAll(in[1], "x\n");
        Native.closeQuietly(in[1]); // both cats see end of input; one of them echoes the line
        assertEquals("x\n", readAllAndClose(out[0]));
        for (int pid : pids) {
            assertTrue(waitFor(pid).isSuccess());
        }
        Leaks.assertNoFdsBeyond(before, "after spawning from caller fds");
        SpawnException e = assertThrows(SpawnException.class,
                () -> Spawner.spawn(SpawnSpec.builder("cat").stdinFromFd(999_999).build()));
        assertEquals("EBADF", e.errnoName(), "a caller fd that is not open fails the spawn: " + e.getMessage());
        assertTrue(e.getMessage().contains("stdin fd 999999"), e.getMessage());
        Leaks.assertNoFdsBeyond(before, "after a spawn from a closed fd");
    }

    // ---- stderr modes --------------------------------------------------------------------------

    private static final String OUT_AND_ERR = "echo out; echo err >&2";

    @Test
    @Timeout(10)
    void stderrPipe() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("/bin/sh", "-c", OUT_AND_ERR).stdin(Stdin.NULL_DEVICE).build());
        assertEquals("out\n", readAllAndClose(s.stdoutFd()));
        assertEquals("err\n", readAllAndClose(s.stderrFd()));
        Native.closeQuietly(s.pidfd());
        assertTrue(waitFor(s.pid()).isSuccess());
    }

    @Test
    @Timeout(10)
    void stderrMergedIntoStdout() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("/bin/sh", "-c", OUT_AND_ERR)
                .stdin(Stdin.NULL_DEVICE).stderr(Stderr.MERGE_WITH_STDOUT).build());
        assertEquals(-1, s.stderrFd());
        assertEquals("out\nerr\n", readAllAndClose(s.stdoutFd()));
        Native.closeQuietly(s.pidfd());
        assertTrue(waitFor(s.pid()).isSuccess());
    }

    @Test
    @Timeout(10)
    void stderrDiscarded() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("/bin/sh", "-c", OUT_AND_ERR + "; ls -l /proc/self/fd/2 >&1")
                .stdin(Stdin.NULL_DEVICE).stderr(Stderr.DISCARD).build());
        assertEquals(-1, s.stderrFd());
        String out = readAllAndClose(s.stdoutFd());
        assertTrue(out.startsWith("out\n") && out.contains("-> /dev/null"), out);
        Native.closeQuietly(s.pidfd());
        assertTrue(waitFor(s.pid()).isSuccess());
    }

    @Test
    @Timeout(10)
    void stderrAppendedToFile(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        Files.writeString(log, "before\n");
        for (int i = 0; i < 2; i++) {
            Spawned s = Spawner.spawn(SpawnSpec.builder("/bin/sh", "-c", OUT_AND_ERR)
                    .stdin(Stdin.NULL_DEVICE).stderrAppendTo(log.toString()).build());
            assertEquals(-1, s.stderrFd());
            assertEquals("out\n", readAllAndClose(s.stdoutFd()));
            Native.closeQuietly(s.pidfd());
            assertTrue(waitFor(s.pid()).isSuccess());
        }
        assertEquals("before\nerr\nerr\n", Files.readString(log));
    }

    @Test
    @Timeout(10)
    void stderrFileThatCannotBeOpenedIsReportedAsSuch() {
        Leaks.Baseline before = Leaks.baseline();
        SpawnException e = assertThrows(SpawnException.class, () -> Spawner.spawn(
                SpawnSpec.builder("true").stderrAppendTo("/nonexistent-dir/x.log").build()));
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("stderr file '/nonexistent-dir/x.log'"), e.getMessage());
        Leaks.assertNoFdsBeyond(before);
    }

    // ---- environment and working directory -------------------------------------------------------

    @Test
    @Timeout(10)
    void environmentIsExactlyTheGivenMap() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("FOO", "bar");
        env.put("EMPTY", "");
        env.put("UNI", "h\u00e9llo w\u00f6rld");
        assertEquals("FOO=bar\nEMPTY=\nUNI=h\u00e9llo w\u00f6rld\n", output(SpawnSpec.builder("env").environment(env)));
        assertEquals("", output(SpawnSpec.builder("env").environment(Map.of())));
    }

    @Test
    @Timeout(10)
    void environmentIsInheritedByDefault() throws Exception {
        List<String> lines = Arrays.asList(output(SpawnSpec.builder("env")).split("\n"));
        assertTrue(lines.contains("PATH=" + System.getenv("PATH")), lines.toString());
    }

    @Test
    @Timeout(10)
    void workingDirectoryIsApplied(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        assertEquals(real + "\n", output(SpawnSpec.builder("pwd").workingDirectory(real.toString())));
    }

    // ---- process groups and statuses ----------------------------------------------------------

    @Test
    @Timeout(10)
    void newProcessGroupMakesTheChildALeader() throws Exception {
        assumeTrue(Native.LINUX);
        long ourPgid = Long.parseLong(statFields(TestChildren.MY_PID)[2]);
        Spawned plain = Spawner.spawn(SpawnSpec.builder("cat").build());
        Spawned leader = Spawner.spawn(SpawnSpec.builder("cat").newProcessGroup(true).build());
        try {
            assertEquals(ourPgid, Long.parseLong(statFields(plain.pid())[2]));
            assertEquals(leader.pid(), Long.parseLong(statFields(leader.pid())[2]));
            assertTrue(ProcessControl.signalGroup(leader.pid(), ProcessControl.SIGTERM));
            ExitStatus status = waitFor(leader.pid());
            assertTrue(status.signaled());
            assertEquals(ProcessControl.SIGTERM, status.signal());
            assertFalse(ProcessControl.signalGroup(leader.pid(), ProcessControl.SIGTERM), "group is empty now");
        } finally {
            plain.closeAll();
            leader.closeAll();
        }
        assertTrue(waitFor(plain.pid()).isSuccess());
    }

    @Test
    @Timeout(10)
    void exitCodesAreReported() throws Exception {
        for (int code : new int[] {0, 1, 255}) {
            Spawned s = Spawner.spawn(SpawnSpec.builder("/bin/sh", "-c", "exit " + code).stdin(Stdin.NULL_DEVICE).build());
            s.closeAll();
            ExitStatus status = waitFor(s.pid());
            assertTrue(status.exited());
            assertEquals(code, status.exitCode());
            assertEquals("exit " + code, status.toString());
        }
    }

    @Test
    @Timeout(10)
    void sigtermThroughPidfdAndSigkillThroughKill() throws Exception {
        Spawned term = Spawner.spawn(SpawnSpec.builder("cat").build());
        Spawned kill = Spawner.spawn(SpawnSpec.builder("cat").build());
        try {
            assertTrue(ProcessControl.signal(term.pid(), term.pidfd(), ProcessControl.SIGTERM));
            assertTrue(ProcessControl.signal(kill.pid(), -1, ProcessControl.SIGKILL));
            ExitStatus t = waitFor(term.pid());
            ExitStatus k = waitFor(kill.pid());
            assertEquals(ExitStatus.ofSignal(ProcessControl.SIGTERM, false), t);
            assertEquals("signal 15 (SIGTERM)", t.toString());
            assertEquals(ExitStatus.ofSignal(ProcessControl.SIGKILL, false), k);
            assertEquals("signal 9 (SIGKILL)", k.toString());
        } finally {
            term.closeAll();
            kill.closeAll();
        }
    }

    @Test
    @Timeout(10)
    void signallingThroughAPidfdAfterReapingReportsGoneInsteadOfHittingARecycledPid() throws Exception {
        assumeTrue(Native.LINUX);
        Spawned s = Spawner.spawn(SpawnSpec.builder("true").build());
        assumeTrue(s.pidfd() >= 0);
        Native.closeQuietly(s.stdinFd());
        Native.closeQuietly(s.stdoutFd());
        Native.closeQuietly(s.stderrFd());
        assertTrue(waitFor(s.pid()).isSuccess());
        try {
            assertFalse(ProcessControl.signal(s.pid(), s.pidfd(), ProcessControl.SIGTERM));
        } finally {
            Native.closeQuietly(s.pidfd());
        }
    }

    @Test
    @Timeout(10)
    void waitingTwiceIsEchild() throws Exception {
        Spawned s = Spawner.spawn(SpawnSpec.builder("true").build());
        s.closeAll();
        waitFor(s.pid());
        NativeIoException e = assertThrows(NativeIoException.class, () -> ProcessControl.waitNoHang(s.pid()));
        assertEquals("ECHILD", e.errnoName());
        assertTrue(e.getMessage().startsWith("waitpid(" + s.pid() + "): ECHILD"), e.getMessage());
    }

    @Test
    @Timeout(10)
    void childStartsWithEmptySignalMaskAndNoIgnoredSignals() throws Exception {
        assumeTrue(Native.LINUX);
        String status = output(SpawnSpec.builder("cat", "/proc/self/status"));
        assertTrue(status.contains("\nSigBlk:\t0000000000000000\n"), status);
        assertTrue(status.contains("\nSigIgn:\t0000000000000000\n"), status);
    }

    @Test
    @Timeout(30)
    void jdkProcessBuilderChildrenKeepTheirExitCodes() throws Exception {
        Process jdkChild = new ProcessBuilder("/bin/sh", "-c", "sleep 0.3; exit 42").start();
        for (int i = 0; i < 50; i++) {
            Spawned s = Spawner.spawn(SpawnSpec.builder("true").build());
            s.closeAll();
            assertTrue(waitFor(s.pid()).isSuccess());
        }
        assertTrue(jdkChild.waitFor(10, TimeUnit.SECONDS));
        assertEquals(42, jdkChild.exitValue());
    }

    @Test
    @Timeout(60)
    void aJvmStartedWithSigchldIgnoredStillGetsExitStatuses() throws Exception {
        assumeTrue(Native.LINUX && new File("/usr/bin/perl").canExecute());
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Spawned s = Spawner.spawn(SpawnSpec.builder("/usr/bin/perl", "-e", "$SIG{CHLD} = 'IGNORE'; exec @ARGV",
                        javaBin, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                        SigchldIgnoredMain.class.getName())
                .stdin(Stdin.NULL_DEVICE).stderr(Stderr.MERGE_WITH_STDOUT).build());
        String out = readAllAndClose(s.stdoutFd());
        Native.closeQuietly(s.pidfd());
        assertTrue(waitFor(s.pid(), Duration.ofSeconds(50)).isSuccess(), out);
        assertTrue(out.contains("SIGCHLD ignored at start: true\n"), out);
        assertTrue(out.contains("SIGCHLD ignored after spawn: false\n"), out);
        assertTrue(out.contains("child: exit 3\n"), out);
    }

    // ---- failures ----------------------------------------------------------------------------------

    @Test
    @Timeout(10)
    void missingProgram() {
        SpawnException e = failsWithoutLeaking(SpawnSpec.builder("no-such-program-dualpipe").build());
        assertEquals("program 'no-such-program-dualpipe' not found (ENOENT)", e.getMessage());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("no-such-program-dualpipe", e.program());
        SpawnException abs = failsWithoutLeaking(SpawnSpec.builder("/no/such/program").build());
        assertEquals("ENOENT", abs.errnoName());
    }

    @Test
    @Timeout(10)
    void nonExecutableProgram() {
        SpawnException e = failsWithoutLeaking(SpawnSpec.builder("/etc/passwd").extraPipe(PipeDirection.CHILD_READS).build());
        assertEquals("program '/etc/passwd' is not executable (EACCES)", e.getMessage());
        assertEquals("EACCES", e.errnoName());
    }

    @Test
    @Timeout(10)
    void badWorkingDirectory() {
        SpawnException missing = failsWithoutLeaking(SpawnSpec.builder("true").workingDirectory("/nope").build());
        assertEquals("working directory '/nope' does not exist (ENOENT)", missing.getMessage());
        assertEquals("ENOENT", missing.errnoName());
        SpawnException file = failsWithoutLeaking(SpawnSpec.builder("true").workingDirectory("/etc/passwd").build());
        assertEquals("working directory '/etc/passwd' is not a directory (ENOTDIR)", file.getMessage());
        assertEquals("ENOTDIR", file.errnoName());
    }

    @Test
    @Timeout(10)
    void badPipeSizeFailsCleanly() {
        assumeTrue(Native.LINUX);
        SpawnException e = failsWithoutLeaking(SpawnSpec.builder("true").pipeSize(Integer.MAX_VALUE).build());
        assertTrue(e.getMessage().contains("pipeSize " + Integer.MAX_VALUE), e.getMessage());
    }

    private static SpawnException failsWithoutLeaking(SpawnSpec spec) {
        Leaks.Baseline before = Leaks.baseline();
        SpawnException e = assertThrows(SpawnException.class, () -> Spawner.spawn(spec));
        Leaks.assertNoFdsBeyond(before, "after " + e.getMessage());
        return e;
    }

    @Test
    void invalidSpecsAreRejectedWithTheValueAndTheRule() {
        assertEquals("argv is empty: argv[0], the program, is required",
                assertThrows(InvalidArgumentException.class, () -> SpawnSpec.builder().build()).getMessage());
        assertEquals("argv[1] is null",
                assertThrows(InvalidArgumentException.class, () -> SpawnSpec.builder("echo", null).build()).getMessage());
        assertEquals("argv[1] contains a NUL character, which C strings cannot hold: \"a\\0b\"",
                assertThrows(InvalidArgumentException.class, () -> SpawnSpec.builder("echo", "a\0b").build()).getMessage());
        assertEquals("argv[0] is empty: the program name is required",
                assertThrows(InvalidArgumentException.class, () -> SpawnSpec.builder("").build()).getMessage());
        assertEquals("pipeSize < 0: -1",
                assertThrows(InvalidArgumentException.class, () -> SpawnSpec.builder("true").pipeSize(-1)).getMessage());
        assertEquals("environment variable 'K' contains a NUL character, which C strings cannot hold: \"v\\0\"",
                assertThrows(InvalidArgumentException.class,
                        () -> SpawnSpec.builder("true").environment(Map.of("K", "v\0")).build()).getMessage());
        assertEquals("environment variable name must be non-empty and without '=': 'A=B'",
                assertThrows(InvalidArgumentException.class,
                        () -> SpawnSpec.builder("true").environment(Map.of("A=B", "v")).build()).getMessage());
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("K", null);
        assertEquals("environment variable 'K' has a null value", assertThrows(InvalidArgumentException.class,
                () -> SpawnSpec.builder("true").environment(nullValue).build()).getMessage());
        assertThrows(InvalidArgumentException.class, () -> SpawnSpec.builder("true").stderr(Stderr.APPEND_TO_FILE));
        assertThrows(InvalidArgumentException.class, () -> SpawnSpec.builder((String[]) null));
        assertThrows(InvalidArgumentException.class, () -> ProcessControl.waitNoHang(-1));
        assertThrows(InvalidArgumentException.class, () -> ProcessControl.waitNoHang(0));
        assertThrows(InvalidArgumentException.class, () -> ProcessControl.signalGroup(0, ProcessControl.SIGTERM));
    }

    // ---- hygiene under load ------------------------------------------------------------------------

    @Test
    @Timeout(120)
    void twoThousandSpawnsLeaveNoFdsAndNoZombies() throws Exception {
        SpawnSpec spec = SpawnSpec.builder("/bin/true").build(); // three pipes
        Leaks.Baseline fdsBefore = Leaks.baseline();
        for (int i = 0; i < 2000; i++) {
            Spawned s = Spawner.spawn(spec);
            s.closeAll();
            assertTrue(waitFor(s.pid()).isSuccess());
        }
        Leaks.assertNoFdsBeyond(fdsBefore);
        Leaks.assertNoZombies(fdsBefore);
    }

    @Test
    @Timeout(60)
    void concurrentSpawnsFromSeveralThreads() throws Exception {
        Leaks.Baseline fdsBefore = Leaks.baseline();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    int ok = 0;
                    for (int i = 0; i < 100; i++) {
                        String word = "t" + thread + "-" + i;
                        Spawned s = Spawner.spawn(SpawnSpec.builder("echo", word).stdin(Stdin.NULL_DEVICE).build());
                        String out = readAllAndClose(s.stdoutFd());
                        Native.closeQuietly(s.stderrFd());
                        Native.closeQuietly(s.pidfd());
                        if (waitFor(s.pid()).isSuccess() && out.equals(word + "\n")) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            for (Future<Integer> r : results) {
                assertEquals(100, r.get());
            }
        } finally {
            pool.shutdownNow();
        }
        Leaks.assertNoFdsBeyond(fdsBefore);
    }

    // ---- helpers -------------------------------------------------------------------------------------

    /** Runs a spec to completion with stdin closed at once; returns stdout, asserts exit 0. */
    private static String output(SpawnSpec.Builder builder) throws Exception {
        Spawned s = Spawner.spawn(builder.build());
        Native.closeQuietly(s.stdinFd());
        String out = readAllAndClose(s.stdoutFd());
        String err = readAllAndClose(s.stderrFd());
        Native.closeQuietly(s.pidfd());
        ExitStatus status = waitFor(s.pid());
        assertTrue(status.isSuccess(), status + ", stderr: " + err);
        return out;
    }

    private static List<String> sortedLines(String text) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.trim().split("\n")));
        lines.sort((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)));
        return lines;
    }
}
