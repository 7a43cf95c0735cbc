package io.dualpipe.process;

import io.dualpipe.Leaks;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static io.dualpipe.process.ProcessTestSupport.onLoop;
import static io.dualpipe.process.ProcessTestSupport.statFields;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link ChildProcessBuilder#pseudoTerminal(boolean)} with real children (Linux). */
class PseudoTerminalTest {
    /** Python without -u: block-buffers stdout on a pipe, line-buffers it on a terminal. */
    private static final Duration PYTHON_STARTUP = Duration.ofSeconds(60);
    private static final String PY_UPPER = "import sys\nfor l in sys.stdin: print(l.strip().upper())";

    @BeforeAll
    static void linuxOnly() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "pseudo-terminals are implemented for Linux only");
    }

    private static ChildProcessBuilder tty(EventLoop loop, String... command) {
        return ChildProcess.builder(command).pseudoTerminal(true).loop(loop);
    }

    /**
     * Python run the way an unchangeable program would be: PYTHONUNBUFFERED (set in some CI and
     * developer shells) would make it flush on a pipe too, and the tests below prove nothing.
     */
    private static ChildProcessBuilder python(EventLoop loop, boolean terminal, String script) {
        return ChildProcess.builder("python3", "-c", script).removeEnvironment("PYTHONUNBUFFERED")
                .pseudoTerminal(terminal).loop(loop);
    }

    /**
     * A python child's first answer, which includes its start-up: over a second here when idle (python3
     * is a pyenv shim that forks several times), and past the 10 s step bound on two busy cores. The
     * start-up is not what these tests measure, so it gets a bound of its own.
     */
    private static <T> T started(Future<T> firstAnswer) throws Exception {
        return firstAnswer.get(PYTHON_STARTUP.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** (a) The child's stdin and stdout are a terminal; stderr, left at PIPE, is not. */
    @Test
    @Timeout(90)
    void theChildSeesATerminal() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-isatty");
             ChildProcess py = python(loop, true,
                     "import sys; print(sys.stdin.isatty(), sys.stdout.isatty(), sys.stderr.isatty())").start();
             ChildProcess sh = tty(loop, "sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo tty; [ -t 2 ] || echo notty >&2").stderr(StderrMode.PIPE).start()) {
            assertEquals("True True False", started(py.readLine()));
            assertEquals("tty", get(sh.readLine()));
            assertEquals("notty", get(sh.errorLines().readLine()));
            assertEquals(0, get(py.onDrained()).exitCode());
            assertEquals(0, get(sh.onDrained()).exitCode());
        }
    }

    /** stderr MERGE_WITH_STDOUT puts fd 2 on the terminal too, in order with stdout. */
    @Test
    @Timeout(30)
    void mergedStderrIsTheTerminalToo() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-merge");
             ChildProcess sh = tty(loop, "sh", "-c", "echo out; [ -t 2 ] && echo err-tty >&2")
                     .stderr(StderrMode.MERGE_WITH_STDOUT).start()) {
            assertEquals("out", get(sh.readLine()));
            assertEquals("err-tty", get(sh.readLine()));
            assertNull(get(sh.readLine()));
            assertEquals(0, get(sh.onDrained()).exitCode());
        }
    }

    /**
     * (b) The reason for the feature: Python without -u answers each request at once, with no flush
     * in the script. Each request has its own deadline, so a reply held back in a stdio buffer fails
     * the test rather than arriving at exit.
     */
    @Test
    @Timeout(120)
    void aBlockBufferingProgramConversesLineByLine() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-conversation");
             ChildProcess py = python(loop, true, PY_UPPER).start()) {
            // The first reply waits for the start-up too; a reply held back would still never come.
            assertEquals("HELLO", started(py.request("hello", PYTHON_STARTUP)));
            for (int i = 0; i < 20; i++) {
                assertEquals("HELLO " + i, get(py.request("hello " + i, Duration.ofSeconds(10))));
            }
            assertTrue(py.isAlive(), "it answered while still running, not at exit");
            get(py.stdin().shutdownOutput());
            assertEquals(ExitStatus.ofExitCode(0), get(py.onDrained()));
        }
    }

    /**
     * The premise of the test above: the same program on a pipe holds its replies back (until its
     * stdio buffer fills or it exits). This one also says on stderr (never buffered) that it has
     * read the request and printed the reply, so the test knows the reply is held back, not merely
     * late: python3 (a pyenv shim here) takes over a second to start when idle and more than 10 s on
     * a busy machine, which a fixed reply deadline could not tell apart from buffering.
     */
    @Test
    @Timeout(90)
    void theSameProgramOnAPipeDoesNotAnswer() throws Exception {
        try (EventLoop loop = EventLoop.create("pipe-conversation");
             ChildProcess py = python(loop, false, PY_UPPER + "; print('took', l.strip(), file=sys.stderr)")
                     .stderr(StderrMode.PIPE).start()) {
            LoopFuture<String> reply = py.request("hello");
            assertEquals("took hello", started(py.errorLines().readLine()), "it read the request and printed the reply");
            onLoop(loop, () -> null); // the loop has read whatever reached the stdout pipe before the stderr line
            assertFalse(reply.isDone(), "the reply stays in the stdio buffer of a program on a pipe");
            get(py.stdin().shutdownOutput());
            assertEquals("HELLO", get(reply), "and comes out when it exits");
            assertEquals(ExitStatus.ofExitCode(0), get(py.onDrained()));
        }
    }

    /** (c) ECHO is off: the first line read is the child's answer, not our own input read back. */
    @Test
    @Timeout(30)
    void whatWeWriteIsNotEchoed() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-noecho");
             ChildProcess sh = tty(loop, "sh", "-c", "read x; echo \"got $x\"; read y; echo \"got $y\"").start()) {
            get(sh.writeLine("first"));
            assertEquals("got first", get(sh.readLine()));
            get(sh.writeLine("second"));
            assertEquals("got second", get(sh.readLine()));
            assertNull(get(sh.readLine()));
            assertEquals(0, get(sh.onDrained()).exitCode());
        }
    }

    /**
     * (d) The terminal is the child's controlling terminal: it leads its own session, /proc shows a
     * tty_nr that is this pts, {@code tty} names it, and /dev/tty opens.
     */
    @Test
    @Timeout(30)
    void theTerminalIsTheChildsControllingTerminal() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-ctty");
             ChildProcess sh = tty(loop, "sh", "-c", "tty; echo probe > /dev/tty && echo ctty-ok; read x").start()) {
            String ttyName = get(sh.readLine());
            assertTrue(ttyName.startsWith("/dev/pts/"), ttyName);
            assertEquals("probe", get(sh.readLine()), "/dev/tty is the terminal we read");
            assertEquals("ctty-ok", get(sh.readLine()));
            String[] stat = statFields(sh.pid()); // [0]=state, [1]=ppid, [2]=pgrp, [3]=session, [4]=tty_nr
            assertEquals(String.valueOf(sh.pid()), stat[3], "session leader");
            assertEquals(String.valueOf(sh.pid()), stat[2], "process group leader");
            int ttyNr = Integer.parseInt(stat[4]);
            assertNotEquals(0, ttyNr, "has a controlling terminal");
            int major = (ttyNr >> 8) & 0xfff;
            int minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
            assertTrue(major >= 136 && major <= 143, "a Unix98 pty slave: major " + major);
            assertEquals("/dev/pts/" + ((major - 136) * 256 + minor), ttyName);
            get(sh.writeLine("done"));
            assertEquals(0, get(sh.onDrained()).exitCode());
        }
    }

    /**
     * (e) The end: after the child exits, the master's EIO reads as end of stream, every line
     * before it arrives, readLine() gives null, onDrained completes with the exit code, and no fd
     * or zombie is left without a close() call.
     */
    @Test
    @Timeout(30)
    void exitEndsTheStreamAndLeavesNothingBehind() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-exit")) {
            Leaks.Baseline fds = Leaks.baseline();
            ChildProcess sh = tty(loop, "sh", "-c", "echo one; echo two; exit 3").start();
            assertEquals("one", get(sh.readLine()));
            assertEquals("two", get(sh.readLine()));
            assertNull(get(sh.readLine()));
            assertNull(get(sh.readLine()), "and again");
            assertEquals(3, get(sh.onDrained()).exitCode());
            Leaks.awaitNoFdsBeyond(fds);
            Leaks.assertNoZombies(fds);
            failsWith(ChannelClosedException.class, sh.stdin().write("too late\n"));
        }
    }

    /**
     * A child that closes the terminal and keeps running: EIO (the end) comes while it lives, and the
     * master must stay open until it is reaped, since closing a master SIGHUPs the session. The
     * parent first closed the master at EIO, and cat, which closes stdin and stdout before exiting,
     * died of SIGHUP now and then instead of exiting 0.
     */
    @Test
    @Timeout(30)
    void aChildThatClosesTheTerminalFirstIsNotHungUp() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-no-hangup")) {
            Leaks.Baseline fds = Leaks.baseline();
            ChildProcess sh = tty(loop, "sh", "-c", "exec 0<&- 1>&-; echo closed >&2; read x <&3; exit 7")
                    .extraPipe(PipeDirection.TO_CHILD).stderr(StderrMode.PIPE).start();
            assertNull(get(sh.readLine()), "EIO reads as the end");
            assertEquals("closed", get(sh.errorLines().readLine()));
            assertTrue(sh.isAlive());
            get(sh.pipeToChild(3).write("go\n"));
            assertEquals(ExitStatus.ofExitCode(7), get(sh.onDrained()));
            Leaks.awaitNoFdsBeyond(fds);
        }
    }

    /** Output the child wrote just before exiting is all read before the EIO, even far beyond the terminal's buffer. */
    @Test
    @Timeout(60)
    void bulkOutputBeforeExitIsNotLost() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-bulk")) {
            Leaks.Baseline fds = Leaks.baseline();
            ChildProcess seq = tty(loop, "seq", "1", "50000").start();
            List<String> lines = new ArrayList<>();
            for (String l = get(seq.readLine()); l != null; l = get(seq.readLine())) {
                lines.add(l);
            }
            assertEquals(50000, lines.size());
            assertEquals("1", lines.get(0));
            assertEquals("50000", lines.get(49999));
            assertEquals(0, get(seq.onDrained()).exitCode());
            Leaks.awaitNoFdsBeyond(fds);
        }
    }

    /** (f) shutdownOutput() writes VEOF after the queued bytes: cat sees end of input and exits 0. */
    @Test
    @Timeout(30)
    void shutdownOutputEndsCatsInput() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-veof")) {
            Leaks.Baseline fds = Leaks.baseline();
            ChildProcess cat = tty(loop, "cat").start();
            get(cat.writeLine("a"));
            assertEquals("a", get(cat.readLine()));
            get(cat.stdin().shutdownOutput());
            assertNull(get(cat.readLine()));
            assertEquals(ExitStatus.ofExitCode(0), get(cat.onDrained()));
            failsWith(ChannelClosedException.class, cat.stdin().write("after\n"));
            Leaks.awaitNoFdsBeyond(fds);
        }
    }

    /** A last line without newline: one VEOF only completes it, so two are sent; cat still ends. */
    @Test
    @Timeout(30)
    void shutdownOutputAfterAPartialLine() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-veof-partial");
             ChildProcess cat = tty(loop, "cat").start()) {
            cat.stdin().write("x\ny");
            cat.stdin().shutdownOutput();
            assertEquals("x", get(cat.readLine()));
            assertEquals("y", get(cat.readLine()));
            assertNull(get(cat.readLine()));
            assertEquals(ExitStatus.ofExitCode(0), get(cat.onDrained()));
        }
    }

    /** close() on a live child kills it and closes the master once; nothing is left. */
    @Test
    @Timeout(30)
    void closeKillsAndReleases() throws Exception {
        try (EventLoop loop = EventLoop.create("pty-close")) {
            Leaks.Baseline fds = Leaks.baseline();
            ChildProcess cat = tty(loop, "cat").start();
            get(cat.writeLine("ping"));
            assertEquals("ping", get(cat.readLine()));
            cat.close();
            assertTrue(get(cat.onExit()).signaled());
            Leaks.awaitNoFdsBeyond(fds);
            Leaks.awaitNoZombies();
        }
    }

    @Test
    @Timeout(10)
    void stdinOrStdoutElsewhereIsRefused() {
        try (EventLoop loop = EventLoop.create("pty-refused")) {
            assertThrows(InvalidArgumentException.class,
                    () -> tty(loop, "cat").stdin(StdinMode.NULL_DEVICE).start());
            assertThrows(InvalidArgumentException.class,
                    () -> tty(loop, "cat").stdout(StdoutMode.DISCARD).start());
        }
    }
}
